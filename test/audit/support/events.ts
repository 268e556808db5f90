import { generateKeyPairSync, randomUUID } from "node:crypto";
import type { AuditEvent } from "../../../src/audit/core/entry.js";
import type { SigningKey } from "../../../src/audit/core/keys.js";
import { uuidv7 } from "../../../src/util/uuidv7.js";

export const TEST_ORIGIN = "atomic.test/audit";

/** A request event as the gateway writes one, stamped `at` (default now). */
export function requestEvent(at: Date = new Date(), overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    v: 1,
    id: uuidv7(at.getTime()),
    time: at.toISOString(),
    kind: "request",
    request: { id: randomUUID(), endpoint: "chat.completions", executionId: randomUUID() },
    model: { id: "tiny", sha256: "ab".repeat(32) },
    parameters: { maxTokens: 16, temperature: 0.2 },
    content: { inputHash: "cd".repeat(32), outputHash: "ef".repeat(32), saltId: "0123456789abcdef" },
    usage: { promptTokens: 12, completionTokens: 3 },
    latencyMs: 41.5,
    outcome: { status: "succeeded" },
    ...overrides,
  };
}

/** A key held in memory only: tests need no key files. */
export function testSigningKey(name = "atomic.test"): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, privateKey, publicKey };
}
