import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { decodeLeaf } from "../../src/audit/core/entry.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { publicKeyFromJwk } from "../../src/audit/core/keys.js";
import { leafHash, verifyInclusion } from "../../src/audit/core/merkle.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { keyIdentity } from "../../src/audit/core/key-identity.js";
import { chainHash } from "../../src/audit/core/entry.js";
import { verifyConsistencyProof } from "../../src/audit/verify/consistency-proof.js";
import { verifyReceipt } from "../../src/audit/verify/receipt.js";
import { schemaDigest } from "../../src/store/schema-digest.js";
import { auditEvents } from "../support/audit-events.js";
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
    expect(created).toMatchObject({ actor: { subject: "atomic-first-start" }, detail: { tenant: "default", scopes: ["admin", "audit:read", "audit:export", "metrics:read", "operator"] } });
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
    const notAnId = await gw.fetch(`/v1/audit/receipt/someone@example.org`);
    expect(notAnId.status).toBe(400);
    expect((await notAnId.json()).error.code).toBe("invalid_parameter");
    const bad = await gw.fetch(`/v1/audit/export?from=abc`);
    expect(bad.status).toBe(400);
    const beyond = await gw.fetch(`/v1/audit/export?previous_size=99999999`);
    expect(beyond.status).toBe(400);
    expect((await beyond.json()).error.code).toBe("audit_range_invalid");
  });
});

/** The sizes of the stored checkpoints that meet an SQL condition on `size`, smallest first. */
async function checkpointSizes(condition: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: gw.databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ size: string }>(`SELECT size FROM audit_checkpoints WHERE ${condition} ORDER BY size`)).rows.map((row) => Number(row.size));
  } finally {
    await client.end();
  }
}

/** The signed checkpoint the gateway serves now, after everything queued so far is sequenced. */
async function settledCheckpoint(): Promise<string> {
  await gw.gateway.audit.sequencer.drain();
  return (await gw.fetch(`/v1/audit/checkpoint`)).text();
}

describe("the auditor's workflow", () => {
  it("logs the signing key's id and fingerprint at start, as the public key file gives them", () => {
    const line = gw.logs.find((entry) => entry["msg"] === "audit signing key");
    const key = publicKeyFromJwk(jwk);
    expect(line).toMatchObject({ ...keyIdentity(key.name, key.publicKey), publicKey: join(gw.dataDir, "keys", "audit-signing.pub.jwk"), retired: [] });
    expect(line?.["fingerprint"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("proves a receipt in a checkpoint the auditor already holds, which the offline verifier accepts", async () => {
    const response = await gw.post(`/v1/completions`, { model: "tiny", prompt: "held", max_tokens: 2 });
    const executionId = response.headers.get("x-atomic-execution-id")!;
    await receiptOf(executionId);
    const held = await settledCheckpoint();
    const heldSize = verifyCheckpoint(held, publicKeyFromJwk(jwk)).size;
    // The log grows past the held checkpoint: the latest receipt is for another tree, the one asked for is the held one.
    await (await gw.post(`/v1/completions`, { model: "tiny", prompt: "later", max_tokens: 2 })).text();
    await gw.gateway.audit.sequencer.drain();
    const latest = await receiptOf(executionId);
    expect(latest.tree_size).toBeGreaterThan(heldSize);
    expect(verifyReceipt(latest, { publicKeyJwk: jwk, heldCheckpoint: held })).toMatchObject({ ok: false, code: "checkpoint_mismatch" });

    const inHeld = await gw.fetch(`/v1/audit/receipt/${executionId}?tree_size=${heldSize}`);
    expect(inHeld.status).toBe(200);
    const receipt = await inHeld.json();
    expect(receipt).toMatchObject({ object: "audit.receipt", event_id: executionId, tree_size: heldSize, checkpoint: held });
    expect(receipt.chain_hash).toBe(chainHash(Buffer.from(receipt.leaf, "utf8")).toString("hex"));
    expect(receipt.leaf_hash).toBe(leafHash(Buffer.from(receipt.leaf, "utf8")).toString("base64"));
    expect(verifyReceipt(receipt, { publicKeyJwk: jwk, heldCheckpoint: held })).toMatchObject({ ok: true, eventId: executionId, kind: "request", held: true });

    const never = await gw.fetch(`/v1/audit/receipt/${executionId}?tree_size=${heldSize + 1_000_000}`);
    expect(never.status).toBe(404);
    expect((await never.json()).error).toMatchObject({ code: "audit_checkpoint_not_found", param: "tree_size" });
    // A signed tree from before the event: it cannot hold it.
    const before = await checkpointSizes(`size <= ${receipt.index}`);
    expect(before.length).toBeGreaterThan(0);
    const early = await gw.fetch(`/v1/audit/receipt/${executionId}?tree_size=${before.at(-1)}`);
    expect(early.status).toBe(400);
    expect((await early.json()).error).toMatchObject({ code: "audit_event_not_in_tree", param: "tree_size" });
  });

  it("serves consistency proofs under audit:read, which the offline verifier checks from the auditor's checkpoint", async () => {
    const previous = await settledCheckpoint();
    const previousSize = verifyCheckpoint(previous, publicKeyFromJwk(jwk)).size;
    for (let i = 0; i < 2; i++) await (await gw.post(`/v1/completions`, { model: "tiny", prompt: `c${i}`, max_tokens: 2 })).text();
    await gw.gateway.audit.sequencer.drain();

    const auditor = { authorization: `Bearer ${await gw.issueKey("default", ["audit:read"])}` };
    const response = await gw.fetch(`/v1/audit/consistency?from=${previousSize}`, { headers: auditor });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ object: "audit.consistency", old_size: previousSize, old_checkpoint: previous });
    expect(body.new_size).toBeGreaterThan(previousSize);
    expect(verifyConsistencyProof(body, { publicKeyJwk: jwk, previousCheckpoint: previous })).toMatchObject({ ok: true, oldSize: previousSize, newSize: body.new_size, held: true });

    const upTo = await (await gw.fetch(`/v1/audit/consistency?from=${previousSize}&to=${previousSize}`, { headers: auditor })).json();
    expect(upTo).toMatchObject({ old_size: previousSize, new_size: previousSize, proof: [] });
    const exporterOnly = { authorization: `Bearer ${await gw.issueKey("default", ["audit:export"])}` };
    expect((await gw.fetch(`/v1/audit/consistency?from=${previousSize}`, { headers: exporterOnly })).status).toBe(403);
    const backwards = await gw.fetch(`/v1/audit/consistency?from=${body.new_size}&to=${previousSize}`, { headers: auditor });
    expect(backwards.status).toBe(400);
    expect((await backwards.json()).error.code).toBe("audit_range_invalid");
    expect((await gw.fetch(`/v1/audit/consistency?from=${previousSize + 1_000_000}`, { headers: auditor })).status).toBe(404);
    expect((await gw.fetch(`/v1/audit/consistency`, { headers: auditor })).status).toBe(400);
    expect((await gw.fetch(`/v1/audit/consistency?from=1&bogus=2`, { headers: auditor })).status).toBe(400);
  });

  it("records every read of the audit log, with its route and range and never an entry, before answering", async () => {
    const checkpoint = await gw.fetch(`/v1/audit/checkpoint`);
    const readId = checkpoint.headers.get("x-atomic-audit-event-id")!;
    expect(readId).toMatch(/^[0-9a-f-]{36}$/);
    const size = verifyCheckpoint(await checkpoint.text(), publicKeyFromJwk(jwk)).size;
    // The read is itself in the log: the auditor can ask for its receipt.
    const receipt = await receiptOf(readId);
    const { event } = decodeLeaf(Buffer.from(receipt.leaf, "utf8"));
    expect(event).toMatchObject({
      kind: "audit.read",
      actor: { subject: expect.stringMatching(/^apikey:/), tenant: "default" },
      request: { endpoint: "GET /v1/audit/checkpoint" },
      outcome: { status: "succeeded" },
      detail: { treeSize: size },
    });
    const unknown = "0190c1a2-0000-7000-8000-00000000abcd";
    expect((await gw.fetch(`/v1/audit/receipt/${unknown}`)).status).toBe(404);
    const exported = await gw.fetch(`/v1/audit/export?to=${size}`);
    await exported.arrayBuffer();
    await gw.gateway.audit.sequencer.drain();

    const reads = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "audit.read");
    expect(reads).toEqual(expect.arrayContaining([
      expect.objectContaining({ request: expect.objectContaining({ endpoint: "GET /v1/audit/receipt/:eventId" }), outcome: { status: "failed", code: "audit_event_not_found" }, detail: { eventId: unknown } }),
      expect.objectContaining({ request: expect.objectContaining({ endpoint: "GET /v1/audit/receipt/:eventId" }), outcome: { status: "succeeded" }, detail: expect.objectContaining({ eventId: readId, index: receipt.index }) }),
      expect.objectContaining({ request: expect.objectContaining({ endpoint: "GET /v1/audit/export" }), outcome: { status: "succeeded" }, detail: { from: 0, to: size } }),
      expect.objectContaining({ request: expect.objectContaining({ endpoint: "GET /v1/audit/consistency" }), outcome: { status: "succeeded" } }),
    ]));
    // A path that is no event id never reaches the log.
    for (const read of reads) expect(JSON.stringify(read)).not.toContain("someone@example.org");
  });

  it("records every schema registration with its name, version and digest, never the document", async () => {
    const schema = { type: "object", description: "secret clinic note", properties: { ward: { type: "string", enum: ["oncology-7"] } } };
    const created = await gw.post(`/v1/schemas`, { name: "audited", schema, description: "ward 7 intake" });
    expect(created.status).toBe(201);
    expect((await gw.post(`/v1/schemas`, { name: "audited", schema })).status).toBe(201);
    const other = { type: "object", properties: { n: { type: "integer" } } };
    const conflict = await gw.post(`/v1/schemas`, { name: "audited", version: 1, schema: other });
    expect(conflict.status).toBe(409);
    await gw.gateway.audit.sequencer.drain();

    const registered = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "schema.registered");
    const request = expect.objectContaining({ endpoint: "POST /v1/schemas" });
    expect(registered).toEqual([
      expect.objectContaining({ request, outcome: { status: "succeeded" }, detail: { name: "audited", version: 1, sha256: schemaDigest(schema), created: true } }),
      expect.objectContaining({ request, outcome: { status: "succeeded" }, detail: { name: "audited", version: 1, sha256: schemaDigest(schema), created: false } }),
      expect.objectContaining({ request, outcome: { status: "refused", code: "schema_version_conflict" }, detail: { name: "audited", version: 1, sha256: schemaDigest(other) } }),
    ]);
    expect(registered[0]!.actor).toMatchObject({ tenant: "default" });
    for (const text of ["secret clinic note", "oncology-7", "ward 7 intake"]) expect(JSON.stringify(registered)).not.toContain(text);
  });

  it("says when an export over HTTP ends before the `to` asked for, and where the next signed tree is", async () => {
    const sizes = await checkpointSizes("TRUE");
    const gap = sizes.findIndex((size, i) => i > 0 && size - sizes[i - 1]! >= 2);
    expect(gap).toBeGreaterThan(0);
    const short = await gw.fetch(`/v1/audit/export?to=${sizes[gap]! - 1}`);
    expect(short.headers.get("content-disposition")).toContain(`-${sizes[gap - 1]}.tar`);
    expect(short.headers.get("x-atomic-audit-requested-to")).toBe(String(sizes[gap]! - 1));
    expect(short.headers.get("x-atomic-audit-next-checkpoint")).toBe(String(sizes[gap]));
    await short.arrayBuffer();
    const exact = await gw.fetch(`/v1/audit/export?to=${sizes[gap]}`);
    expect(exact.headers.get("x-atomic-audit-requested-to")).toBeNull();
    await exact.arrayBuffer();
  });

  it("still verifies the whole log, new kinds included, from index 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-audit-kinds-"));
    const response = await gw.fetch(`/v1/audit/export`);
    writeFileSync(join(dir, "export.tar"), Buffer.from(await response.arrayBuffer()));
    execFileSync("tar", ["-xf", "export.tar", "--exclude", "export.tar"], { cwd: dir });
    execFileSync("rm", ["export.tar"], { cwd: dir });
    expect(await verifyExport(dir, { publicKeyJwk: jwk })).toMatchObject({ ok: true, from: 0 });
    const kinds = new Set(readFileSync(join(dir, "entries.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line).event.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(["audit.read", "schema.registered"]));
  });
});
