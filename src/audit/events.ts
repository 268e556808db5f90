import type { ExecutionRecord } from "../store/interface.js";
import { uuidv7 } from "../util/uuidv7.js";
import type { ContentHasher } from "./content-hasher.js";
import type { AuditEvent } from "./core/entry.js";
import { signHandover } from "./core/handover.js";
import { publicJwk, type SigningKey } from "./core/keys.js";
import { microtaskIdentity } from "../store/erased-parameters.js";

/**
 * The audit record of one finished execution: identities, digests and counts, never the text itself. It shares
 * the execution's id, so the `x-atomic-execution-id` a client receives is also the key of its audit receipt.
 */
export function executionEvent(record: ExecutionRecord, hasher: ContentHasher): AuditEvent {
  return {
    v: 1,
    id: record.id,
    time: record.completedAt.toISOString(),
    kind: "request",
    actor: record.actor,
    request: { id: record.requestId, endpoint: record.endpoint, executionId: record.id },
    model: { id: record.modelId, sha256: record.modelDigest },
    parameters: loggedParameters(record.parameters, hasher),
    content: {
      inputHash: hasher.hash(record.input),
      ...(record.output === null || record.output === undefined ? {} : { outputHash: hasher.hash(record.output) }),
      saltId: hasher.keyId,
    },
    usage: { promptTokens: record.promptTokens, completionTokens: record.completionTokens },
    latencyMs: Math.round(record.timings.totalMs * 1000) / 1000,
    outcome: { status: record.status, ...(record.errorCode ? { code: record.errorCode } : {}) },
  };
}

/**
 * The permanent log keeps no text a caller wrote or a model produced, parameters included, so that erasing stored
 * content leaves none of it behind: stop sequences and the end user a caller names are kept as keyed hashes, like
 * input and output, and a task's microtasks by their identities and codes (their messages may quote an output).
 */
function loggedParameters(parameters: Record<string, unknown>, hasher: ContentHasher): Record<string, unknown> {
  const { stop, user, microtasks, ...rest } = parameters;
  return {
    ...rest,
    ...(stop === undefined || stop === null ? {} : { stopHash: hasher.hash(stop) }),
    ...(user === undefined || user === null ? {} : { userHash: hasher.hash(user) }),
    ...(Array.isArray(microtasks) ? { microtasks: microtasks.map(microtaskIdentity) } : {}),
  };
}

/** An event that is not a request (model loaded or refused, key generated, startup), stamped now. */
export function systemEvent(kind: AuditEvent["kind"], fields: Omit<AuditEvent, "v" | "id" | "time" | "kind">): AuditEvent {
  const now = Date.now();
  return { v: 1, id: uuidv7(now), time: new Date(now).toISOString(), kind, ...fields };
}

/**
 * The record of a key rotation: both public keys, and the previous key's handover signature over the next one, so
 * an auditor who trusts only the previous key can trust the checkpoints the next one signs.
 */
export function keyRotatedEvent(origin: string, rotation: { previous: SigningKey; next: SigningKey }): AuditEvent {
  const previousKey = publicJwk(rotation.previous)["x"] as string;
  const nextKey = publicJwk(rotation.next)["x"] as string;
  return systemEvent("key.rotated", { detail: { previousKey, nextKey, handover: signHandover(origin, nextKey, rotation.previous.privateKey) } });
}
