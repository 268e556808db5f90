import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { internalPolicyDir } from "../support/policies.js";
import { until } from "../support/until.js";

/**
 * `admin` is a tenant's, `operator` the site's. A tenant's admin reaches its own keys, settings, erasure and adapters,
 * never what spans tenants (any tenant's executions, the overview, the audit log's health, the learners' history) or
 * changes what every tenant is served (models, policies, the bidding and adaptation learners): those are refused
 * with 403 and change nothing, and the site's operator reaches them.
 */
let gw: TestGateway;
let ward7Admin: string;
let ward8: string;
let operator: string;

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny", options: { seed: 1 }, capabilities: ["chat", "completion"] }]),
    policy: { dir: internalPolicyDir() },
  });
  [ward7Admin, ward8, operator] = await Promise.all([
    gw.issueKey("ward-7", ["admin"]),
    gw.issueKey("ward-8", ["infer"]),
    gw.issueKey("site", ["operator"]),
  ]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const SECRET = "ward-8 note: bed 12 needs insulin at 14:00";

async function ward8Chat(): Promise<string> {
  const response = await gw.post("/v1/chat/completions", { model: "tiny", max_tokens: 2, messages: [{ role: "user", content: SECRET }] }, as(ward8));
  expect(response.status).toBe(200);
  await response.text();
  return response.headers.get("x-atomic-execution-id")!;
}

/** Every route of the site's operator, as [method, path, body]. */
const operatorRoutes = (executionId: string): Array<[string, string, unknown?]> => [
  ["GET", "/v1/admin/executions?tenant=ward-8"],
  ["GET", `/v1/admin/executions/${executionId}`],
  ["GET", "/v1/admin/overview"],
  ["GET", "/v1/admin/audit"],
  ["GET", "/v1/admin/bidding"],
  ["GET", "/v1/admin/bidding/history?tenant=ward-8"],
  ["POST", "/v1/admin/bidding/freeze", {}],
  ["POST", "/v1/admin/bidding/unfreeze", {}],
  ["POST", "/v1/admin/bidding/reset", {}],
  ["POST", "/v1/admin/bidding/train?from=executions", {}],
  ["POST", "/v1/admin/models/reload", {}],
  ["POST", "/v1/admin/models/tiny/unload?drain_timeout_ms=0", {}],
  ["POST", "/v1/admin/models/tiny/load", {}],
  ["POST", "/v1/admin/policy/reload", {}],
  ["POST", "/v1/admin/adaptation/freeze", {}],
  ["POST", "/v1/admin/adaptation/unfreeze", {}],
  ["POST", "/v1/admin/adaptation/reset", {}],
];

describe("a tenant's admin and the site's operator", () => {
  it("refuses a tenant's admin every operator route with 403, records each refusal, and changes nothing", async () => {
    const id = await ward8Chat();
    const auditBefore = (await auditEvents(gw.databaseUrl)).length;
    for (const [method, path, body] of operatorRoutes(id)) {
      const response = await gw.fetch(path, { method, headers: { ...as(ward7Admin), "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await response.text();
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(text).error.code).toBe("insufficient_scope");
      expect(text).not.toContain("bed 12");
    }
    // Nothing was unloaded or frozen: ward-8 is served as before.
    await ward8Chat();
    await gw.gateway.audit.sequencer.drain();
    const events = (await auditEvents(gw.databaseUrl)).slice(auditBefore);
    const refusals = events.filter((event) => event.kind === "request.refused" && event.actor?.tenant === "ward-7");
    expect(refusals).toHaveLength(operatorRoutes(id).length);
    expect(events.filter((event) => /^(models|policy|bidding|adaptation)\./.test(event.kind))).toEqual([]);
  });

  it("answers the site's operator: another tenant's execution, its history, and an unload every tenant feels", async () => {
    const id = await ward8Chat();
    const record = await gw.fetch(`/v1/admin/executions/${id}`, { headers: as(operator) });
    expect(record.status).toBe(200);
    expect(JSON.stringify(await record.json())).toContain("bed 12");
    const listed = await (await gw.fetch("/v1/admin/executions?tenant=ward-8", { headers: as(operator) })).json() as { data: Array<{ id: string }> };
    expect(listed.data.map((row) => row.id)).toContain(id);
    expect((await gw.fetch("/v1/admin/bidding/history?tenant=ward-8", { headers: as(operator) })).status).toBe(200);

    expect((await gw.post("/v1/admin/models/tiny/unload?drain_timeout_ms=0", {}, as(operator))).status).toBe(200);
    try {
      const refused = await gw.post("/v1/chat/completions", { model: "tiny", max_tokens: 2, messages: [{ role: "user", content: "hi" }] }, as(ward8));
      expect(refused.status).toBe(503);
    } finally {
      expect((await gw.post("/v1/admin/models/tiny/load", {}, as(operator))).status).toBe(200);
      await until(async () => (await (await gw.fetch("/v1/models/tiny")).json()).atomic.state === "ready");
    }
  });

  it("answers a tenant's attempts at another tenant's keys, settings, decisions and receipts as unknown, and records them", async () => {
    const ward8Key = await gw.issueKey("ward-8", ["infer"]);
    const ward8KeyId = /^atk_([0-9a-f]+)_/.exec(ward8Key)![1]!;
    const execution = await ward8Chat();
    const attempts: Array<[string, string, string]> = [
      ["POST", `/v1/admin/apikeys/${ward8KeyId}/revoke`, "api_key_not_found"],
      ["GET", "/v1/admin/tenants/ward-8/settings", "tenant_not_found"],
      ["GET", `/v1/decisions/${execution}`, "decision_not_found"],
      ["GET", `/v1/executions/${execution}/receipt`, "execution_not_found"],
    ];
    await gw.gateway.audit.sequencer.drain();
    const auditBefore = (await auditEvents(gw.databaseUrl)).length;
    for (const [method, path, code] of attempts) {
      const response = await gw.fetch(path, { method, headers: { ...as(ward7Admin), "content-type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) });
      expect(response.status, path).toBe(404);
      expect((await response.json()).error.code).toBe(code);
    }
    // Nothing changed: ward-8's key still works.
    expect((await gw.fetch("/v1/models", { headers: as(ward8Key) })).status).toBe(200);
    await gw.gateway.audit.sequencer.drain();
    const refused = (await auditEvents(gw.databaseUrl)).slice(auditBefore).filter((event) => event.kind === "request.refused" && event.actor?.tenant === "ward-7");
    expect(refused.map((event) => (event.outcome as { code: string }).code)).toEqual(attempts.map(([, , code]) => code));
    expect(refused.map((event) => event.request?.endpoint)).toEqual([
      "POST /v1/admin/apikeys/:id/revoke", "GET /v1/admin/tenants/:tenant/settings", "GET /v1/decisions/:id", "GET /v1/executions/:id/receipt",
    ]);
  });

  it("leaves a tenant's admin its own tenant's routes, and an operator without admin none of them", async () => {
    expect((await gw.fetch("/v1/admin/apikeys", { headers: as(ward7Admin) })).status).toBe(200);
    expect((await gw.fetch("/v1/admin/tenants/ward-7/settings", { headers: as(ward7Admin) })).status).toBe(200);
    const erasure = await gw.post("/v1/admin/erasure", { subject: "apikey:none", dry_run: true }, as(ward7Admin));
    expect(erasure.status).toBe(200);
    for (const path of ["/v1/admin/apikeys", "/v1/admin/tenants/site/settings"]) {
      expect((await gw.fetch(path, { headers: as(operator) })).status, path).toBe(403);
    }
  });
});
