import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { decodeLeaf } from "../../src/audit/core/entry.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { publicKeyFromJwk } from "../../src/audit/core/keys.js";
import { leafHash, verifyInclusion } from "../../src/audit/core/merkle.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;
let jwk: Record<string, string>;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  jwk = JSON.parse(readFileSync(join(gw.dataDir, "keys", "audit-signing.pub.jwk"), "utf8"));
});
afterAll(async () => gw?.close());

async function receiptOf(executionId: string): Promise<Record<string, any>> {
  for (;;) {
    const response = await gw.fetch(`/v1/audit/receipt/${executionId}`);
    if (response.status === 200) return response.json();
    const body = await response.json();
    expect(body.error.code).toBe("audit_event_pending");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("every request is in the tamper-evident log", () => {
  it("gives each execution a receipt whose inclusion proof verifies against a signed checkpoint", async () => {
    const secret = "patient 4711 has condition X";
    const response = await gw.post(`/v1/chat/completions`, { model: "tiny", messages: [{ role: "user", content: secret }], max_tokens: 4 });
    expect(response.status).toBe(200);
    const executionId = response.headers.get("x-atomic-execution-id")!;
    const receipt = await receiptOf(executionId);

    const key = publicKeyFromJwk(jwk);
    const checkpoint = verifyCheckpoint(receipt.checkpoint, key);
    expect(checkpoint.size).toBe(receipt.tree_size);
    const leaf = Buffer.from(receipt.leaf, "utf8");
    const proof = receipt.inclusion_proof.map((h: string) => Buffer.from(h, "base64"));
    expect(verifyInclusion(receipt.index, checkpoint.size, leafHash(leaf), proof, checkpoint.root)).toBe(true);

    const { event } = decodeLeaf(leaf);
    expect(event).toMatchObject({ id: executionId, kind: "request", request: { endpoint: "chat.completions", executionId }, model: { id: "tiny" }, outcome: { status: "succeeded" } });
    expect(event.model?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(event.content?.inputHash).toMatch(/^[0-9a-f]{64}$/);
    expect(receipt.leaf).not.toContain(secret);
  });

  it("records model loads and the gateway's start", async () => {
    const archiveDir = mkdtempSync(join(tmpdir(), "atomic-audit-http-"));
    const response = await gw.fetch(`/v1/audit/export`);
    expect(response.status).toBe(200);
    writeFileSync(join(archiveDir, "export.tar"), Buffer.from(await response.arrayBuffer()));
    execFileSync("tar", ["-xf", "export.tar"], { cwd: archiveDir });
    const events = readFileSync(join(archiveDir, "entries.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line).event);
    expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(["key.generated", "config.loaded", "model.loaded", "request", "apikey.created"]));
    // The first start issued the admin key: to a file only its owner reads, recorded without the key itself.
    const adminKeyFile = join(gw.dataDir, ADMIN_KEY_FILE);
    expect(statSync(adminKeyFile).mode & 0o777).toBe(0o600);
    const created = events.find((event) => event.kind === "apikey.created");
    expect(created).toMatchObject({ actor: { subject: "atomic-first-start" }, detail: { tenant: "default", scopes: ["admin"] } });
    expect(gw.adminKey).toContain(`atk_${created.detail.keyId}_`);
    expect(readFileSync(join(archiveDir, "entries.jsonl"), "utf8")).not.toContain(gw.adminKey.slice(21));
  });

  it("serves an export over HTTP that the offline verifier accepts, and that extends an earlier checkpoint", async () => {
    const first = await (await gw.fetch(`/v1/audit/checkpoint`)).text();
    const earlier = verifyCheckpoint(first, publicKeyFromJwk(jwk));
    for (let i = 0; i < 3; i++) await (await gw.post(`/v1/completions`, { model: "tiny", prompt: `p${i}`, max_tokens: 2 })).text();
    await gw.gateway.audit.sequencer.drain();

    const dir = mkdtempSync(join(tmpdir(), "atomic-audit-http-"));
    const response = await gw.fetch(`/v1/audit/export?previous_size=${earlier.size}`);
    const tar = Buffer.from(await response.arrayBuffer());
    expect(tar.length).toBe(Number(response.headers.get("content-length")));
    writeFileSync(join(dir, "export.tar"), tar);
    execFileSync("tar", ["-xf", "export.tar", "--exclude", "export.tar"], { cwd: dir });
    execFileSync("rm", ["export.tar"], { cwd: dir });
    const verdict = await verifyExport(dir, { publicKeyJwk: jwk, previousCheckpoint: first });
    expect(verdict).toMatchObject({ ok: true, from: 0 });
    expect(verdict.ok && verdict.to).toBeGreaterThan(earlier.size);
  });

  it("answers 404 for an unknown event and 400 for a bad range", async () => {
    const unknown = await gw.fetch(`/v1/audit/receipt/0190c1a2-0000-7000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("audit_event_not_found");
    const bad = await gw.fetch(`/v1/audit/export?from=abc`);
    expect(bad.status).toBe(400);
    const beyond = await gw.fetch(`/v1/audit/export?previous_size=99999999`);
    expect(beyond.status).toBe(400);
    expect((await beyond.json()).error.code).toBe("audit_range_invalid");
  });
});
