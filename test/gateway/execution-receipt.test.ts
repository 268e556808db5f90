import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/audit/verify/receipt.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/** GET /v1/executions/{id}/receipt: an application's proof of its own execution, without the auditor's scope. */
let gw: TestGateway;
let ward7: string;
let ward8: string;
let auditor: string;
let executionId: string;

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** The receipt once the execution's event is sequenced; 404 audit_event_pending until then. */
async function ownReceipt(path: string): Promise<Response> {
  for (;;) {
    const response = await gw.fetch(path, as(ward7));
    if (response.status !== 404) return response;
    const body = (await response.clone().json()) as { error: { code: string } };
    if (body.error.code !== "audit_event_pending") return response;
    expect(response.headers.get("retry-after")).toBe("1");
    await new Promise((done) => setTimeout(done, 10));
  }
}

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  [ward7, ward8, auditor] = await Promise.all([gw.issueKey("ward-7", ["infer"]), gw.issueKey("ward-8", ["infer"]), gw.issueKey("ward-7", ["audit:read"])]);
  const response = await gw.post("/v1/completions", { model: "tiny", prompt: "ward 7's own", max_tokens: 2 }, as(ward7).headers);
  expect(response.status).toBe(200);
  executionId = response.headers.get("x-atomic-execution-id")!;
});
afterAll(async () => gw?.close());

describe("GET /v1/executions/{id}/receipt", () => {
  it("serves the tenant its own execution's receipt with `infer` alone, the audit route's answer, verifiable offline", async () => {
    const response = await ownReceipt(`/v1/executions/${executionId}/receipt`);
    expect(response.status).toBe(200);
    const receipt = (await response.json()) as Record<string, unknown> & { tree_size: number; checkpoint: string };
    expect(receipt).toMatchObject({ object: "audit.receipt", event_id: executionId });
    const jwkFile = join(gw.dataDir, "keys", "audit-signing.pub.jwk");
    const jwk = JSON.parse(readFileSync(jwkFile, "utf8")) as unknown;
    expect(verifyReceipt(receipt, { publicKeyJwk: jwk, heldCheckpoint: receipt.checkpoint })).toMatchObject({ ok: true, eventId: executionId, kind: "request", held: true });

    const fromAuditRoute = await gw.fetch(`/v1/audit/receipt/${executionId}?tree_size=${receipt.tree_size}`);
    expect(await fromAuditRoute.json()).toEqual(receipt);
    const inTree = await gw.fetch(`/v1/executions/${executionId}/receipt?tree_size=${receipt.tree_size}`, as(ward7));
    expect(await inTree.json()).toEqual(receipt);

    const file = join(mkdtempSync(join(tmpdir(), "atomic-execution-receipt-")), "receipt.json");
    writeFileSync(file, JSON.stringify(receipt));
    const { stdout } = await promisify(execFile)(process.execPath, [resolve("audit/verify.mjs"), "receipt", file, "--key", jwkFile]);
    expect(stdout).toMatch(/^OK/);
  });

  it("records the read as audit.read, as every read of the log is", async () => {
    const response = await ownReceipt(`/v1/executions/${executionId}/receipt`);
    const readId = response.headers.get("x-atomic-audit-event-id");
    expect(readId).toMatch(/^[0-9a-f-]{36}$/);
    await gw.gateway.audit.sequencer.drain();
    const read = (await auditEvents(gw.databaseUrl)).find((event) => event.id === readId);
    expect(read).toMatchObject({ kind: "audit.read", actor: { tenant: "ward-7" }, request: { endpoint: "GET /v1/executions/:id/receipt" }, outcome: { status: "succeeded" }, detail: { eventId: executionId } });
  });

  it("answers another tenant's execution exactly as an unknown one, and refuses a malformed id", async () => {
    const other = await gw.fetch(`/v1/executions/${executionId}/receipt`, as(ward8));
    const unknown = await gw.fetch("/v1/executions/0190c1a2-0000-7000-8000-000000000000/receipt", as(ward7));
    for (const response of [other, unknown]) {
      expect(response.status).toBe(404);
      expect((await response.json()).error).toMatchObject({ code: "execution_not_found", param: "id" });
    }
    const malformed = await gw.fetch("/v1/executions/someone@example.org/receipt", as(ward7));
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ code: "invalid_parameter", param: "id" });
    const badSize = await gw.fetch(`/v1/executions/${executionId}/receipt?tree_size=-1`, as(ward7));
    expect(badSize.status).toBe(400);
  });

  it("needs a scope that reads executions: `audit:read` alone is refused", async () => {
    const refused = await gw.fetch(`/v1/executions/${executionId}/receipt`, as(auditor));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
  });
});
