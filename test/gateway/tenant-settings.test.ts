import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { createPool } from "../../src/store/postgres/database.js";

/**
 * Tenants' limits, bidding criteria and retention changed over HTTP on a running gateway: each change applies from
 * the next request (retention: the next pass) on, DELETE gives the configuration file's back, bad input changes nothing, every change is audited.
 * Another gateway on the same database takes each change within its refresh interval.
 * (That stored settings outlive a restart is shown against the database in src/tenants/settings.test.ts.)
 */
let gw: TestGateway;
const admins: Record<string, string> = {};

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }]),
    limits: {
      tenants: { "ward-7": { requestsPerMinute: 1, burst: 2 } },
      tokenUsageRefreshMs: 0,
    },
    bidding: { tenants: { frugal: { constraints: { maxLatencyMs: 1e9 } } } },
  });
  // `admin` is every scope of its own tenant only: each tenant here is administered by its own key.
  for (const tenant of ["ward-7", "ward-9", "frugal", "ward-8"]) admins[tenant] = await gw.issueKey(tenant, ["admin"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const path = (tenant: string) => `/v1/admin/tenants/${tenant}/settings`;
const settingsOf = (tenant: string, key = admins[tenant]!) => gw.fetch(path(tenant), { headers: as(key) });
const put = (tenant: string, body: unknown, key = admins[tenant]!) =>
  gw.fetch(path(tenant), { method: "PUT", headers: { ...as(key), "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
const remove = (tenant: string, key = admins[tenant]!) => gw.fetch(path(tenant), { method: "DELETE", headers: as(key) });

async function statuses(key: string, count: number, on: TestGateway = gw): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await on.fetch("/v1/models", { headers: as(key) })).status);
  return seen;
}

/** The criteria a `model: "auto"` chat of `tenant` was decided under, from its stored decision record. */
async function criteriaOfAutoRequest(tenant: string) {
  const response = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "Hello" }], max_tokens: 2 }, as(admins[tenant]!));
  expect(response.status).toBe(200);
  const executionId = response.headers.get("x-atomic-execution-id")!;
  const record = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: as(admins[tenant]!) })).json();
  return record.decision.criteria;
}

describe("limits", () => {
  it("lifts a throttled tenant's rate from the next request, and DELETE gives the file's back", async () => {
    const ward = await gw.issueKey("ward-7", ["infer"]);
    expect(await statuses(ward, 3)).toEqual([200, 200, 429]);

    // The tenant's own admin is throttled with it everywhere else, but may still lift the limit.
    expect((await gw.fetch("/v1/models", { headers: as(admins["ward-7"]!) })).status).toBe(429);
    const lifted = await put("ward-7", { limits: { requestsPerMinute: 60, burst: 5 } });
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toMatchObject({
      object: "tenant.settings",
      tenant: "ward-7",
      file: { limits: { requestsPerMinute: 1, burst: 2, tokensPerDay: null }, bidding: { criteria: null } },
      stored: { limits: { requestsPerMinute: 60, burst: 5 }, bidding: { criteria: null }, updated_by: expect.any(String) },
      effective: { limits: { requestsPerMinute: 60, burst: 5, tokensPerDay: null }, bidding: { criteria: null } },
    });
    // The new burst, at once and no more: the limit changed, it was not dropped.
    expect(await statuses(ward, 6)).toEqual([200, 200, 200, 200, 200, 429]);

    const restored = await remove("ward-7");
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ stored: null, effective: { limits: { requestsPerMinute: 1, burst: 2, tokensPerDay: null } } });
    expect(await statuses(ward, 3)).toEqual([200, 200, 429]);
    const again = await remove("ward-7");
    expect(again.status).toBe(404);
    expect((await again.json()).error).toMatchObject({ type: "not_found_error", code: "tenant_settings_not_found" });
  });

  it("applies a daily token budget set over HTTP to the next generation, and lifts it again", async () => {
    const complete = () => gw.post("/v1/completions", { model: "tiny", prompt: "go", max_tokens: 2 }, as(admins["ward-9"]!));
    expect((await complete()).status).toBe(200);
    expect((await put("ward-9", { limits: { tokensPerDay: 1 } })).status).toBe(200);
    const refused = await complete();
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe("token_budget_exhausted");
    expect((await put("ward-9", { limits: { tokensPerDay: null } })).status).toBe(200);
    expect((await complete()).status).toBe(200);
  });
});

describe("bidding criteria", () => {
  it("replaces the file's criteria for the tenant from the next auto request, and DELETE gives them back", async () => {
    expect((await criteriaOfAutoRequest("frugal")).sources).toMatchObject({ maxLatencyMs: "tenant", cost: "default" });

    const response = await put("frugal", { bidding: { criteria: { weights: { quality: 1, cost: 3, latency: 0 }, constraints: { maxCost: 1000 } } } });
    expect(response.status).toBe(200);
    expect((await response.json()).effective.bidding).toEqual({ criteria: { weights: { quality: 1, cost: 3, latency: 0 }, constraints: { maxCost: 1000 } } });
    const changed = await criteriaOfAutoRequest("frugal");
    expect(changed.weights).toEqual({ quality: 0.25, cost: 0.75, latency: 0 });
    expect(changed.constraints).toMatchObject({ maxCost: 1000, maxLatencyMs: null });
    // Replaced, not merged: the file's latency constraint is gone.
    expect(changed.sources).toMatchObject({ quality: "tenant", cost: "tenant", latency: "tenant", maxCost: "tenant", maxLatencyMs: "default" });

    expect((await remove("frugal")).status).toBe(200);
    expect((await criteriaOfAutoRequest("frugal")).sources).toMatchObject({ maxLatencyMs: "tenant", cost: "default", maxCost: "default" });
  });

  it("applies a retention set over HTTP at the next retention pass, and DELETE gives the file's back", async () => {
    const answered = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "keep me a while" }], max_tokens: 2 }, as(admins["ward-9"]!));
    const executionId = answered.headers.get("x-atomic-execution-id")!;
    const erased = async () => (await (await gw.fetch(`/v1/executions/${executionId}`, { headers: as(admins["ward-9"]!) })).json()).content_erased;
    const pool = createPool(gw.databaseUrl, { max: 1 });
    try {
      await pool.query("UPDATE executions SET created_at = created_at - interval '10 days' WHERE id = $1", [executionId]);
    } finally {
      await pool.end();
    }
    // The file keeps content until erased on demand.
    await gw.gateway.retention.runOnce();
    expect(await erased()).toBeNull();

    const response = await put("ward-9", { retention: { days: 5 } });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.file.retention).toEqual({ days: null });
    expect(body.effective.retention).toEqual({ days: 5 });
    await gw.gateway.retention.runOnce();
    expect(await erased()).toMatchObject({ at: expect.any(String) });

    const removed = await (await remove("ward-9")).json();
    expect(removed.effective.retention).toEqual({ days: null });
    expect((await put("ward-9", { retention: { days: 0 } })).status).toBe(400);
  });
});

describe("bad input", () => {
  it("is refused with a stable code, and nothing is stored", async () => {
    const before = await (await settingsOf("ward-8")).json();
    const cases: Array<[unknown, string, string | null]> = [
      [{ limits: { burst: 3 }, tenant: "ward-8" }, "unknown_parameter", "tenant"],
      [{ limits: { rpm: 3 } }, "unknown_parameter", "limits.rpm"],
      [{ limits: { requestsPerMinute: -1 } }, "invalid_parameter", "limits.requestsPerMinute"],
      [{ limits: { burst: 0 } }, "invalid_parameter", "limits.burst"],
      [{ limits: { tokensPerDay: 1.5 } }, "invalid_parameter", "limits.tokensPerDay"],
      [{ bidding: {} }, "missing_parameter", "bidding.criteria"],
      [{ bidding: { criteria: { weights: { quality: -1 } } } }, "invalid_parameter", "bidding.criteria.weights.quality"],
      [{ bidding: { criteria: { maxCost: 1 } } }, "unknown_parameter", "bidding.criteria.maxCost"],
      [{}, "invalid_parameter", null],
    ];
    for (const [body, code, param] of cases) {
      const response = await put("ward-8", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await response.json()).error, JSON.stringify(body)).toMatchObject({ type: "invalid_request_error", code, param });
    }
    expect((await (await put("ward-8", "{")).json()).error.code).toBe("invalid_json");

    for (const tenant of ["-ward", "x".repeat(129), "ward%207"]) {
      const response = await put(tenant, { limits: { burst: 3 } }, admins["ward-8"]!);
      expect(response.status, tenant).toBe(400);
      expect((await response.json()).error, tenant).toMatchObject({ code: "invalid_parameter", param: "tenant" });
    }
    expect(await (await settingsOf("ward-8")).json()).toEqual(before);
    expect(before.stored).toBeNull();
  });

  it("keeps an admin to its own tenant, and non-admins out", async () => {
    for (const response of [await settingsOf("ward-8", admins["ward-7"]!), await put("ward-8", { limits: { burst: 3 } }, admins["ward-7"]!), await remove("ward-8", admins["ward-7"]!)]) {
      expect(response.status).toBe(404);
      expect((await response.json()).error).toMatchObject({ code: "tenant_not_found", param: "tenant" });
    }
    const infer = await gw.issueKey("ward-8", ["infer", "embed", "tasks"]);
    for (const response of [await settingsOf("ward-8", infer), await put("ward-8", { limits: { burst: 3 } }, infer), await remove("ward-8", infer)]) {
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("insufficient_scope");
    }
    expect((await fetch(`${gw.url}${path("ward-8")}`)).status).toBe(401);
    expect((await (await settingsOf("ward-8")).json()).stored).toBeNull();
  });
});

describe("the audit log", () => {
  it("records each change with who made it and the settings before and after, and nothing for refusals", async () => {
    await gw.gateway.audit.sequencer.drain();
    const changes = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "tenant.settings.changed");
    expect(changes.map((event) => [event.actor?.tenant, event.request?.endpoint])).toEqual([
      ["ward-7", "PUT /v1/admin/tenants/:tenant/settings"],
      ["ward-7", "DELETE /v1/admin/tenants/:tenant/settings"],
      ["ward-9", "PUT /v1/admin/tenants/:tenant/settings"],
      ["ward-9", "PUT /v1/admin/tenants/:tenant/settings"],
      ["frugal", "PUT /v1/admin/tenants/:tenant/settings"],
      ["frugal", "DELETE /v1/admin/tenants/:tenant/settings"],
      ["ward-9", "PUT /v1/admin/tenants/:tenant/settings"],
      ["ward-9", "DELETE /v1/admin/tenants/:tenant/settings"],
    ]);
    expect(changes[0]!.detail).toEqual({
      tenant: "ward-7",
      before: { stored: null, effective: { limits: { requestsPerMinute: 1, burst: 2, tokensPerDay: null }, criteria: null, retention: { days: null } } },
      after: {
        stored: { limits: { requestsPerMinute: 60, burst: 5 }, criteria: null, retention: null },
        effective: { limits: { requestsPerMinute: 60, burst: 5, tokensPerDay: null }, criteria: null, retention: { days: null } },
      },
    });
    expect(changes[0]!.actor?.subject).toEqual(expect.any(String));
    expect(changes[5]!.detail).toMatchObject({ tenant: "frugal", after: { stored: null, effective: { criteria: { constraints: { maxLatencyMs: 1e9 } } } } });
  });
});

// Last: its changes would otherwise be among those the audit log test counts.
describe("another gateway on the same database", () => {
  let other: TestGateway;
  beforeAll(async () => {
    other = await startTestGateway({
      sameSiteAs: gw,
      models: writeTestModels([{ id: "tiny" }]),
      limits: { tenants: { "ward-7": { requestsPerMinute: 1, burst: 2 } }, tenantSettingsRefreshMs: 200 },
    });
  });
  // Before the first gateway's own close drops the database.
  afterAll(async () => other?.close());

  /** Asks `other` for the models as `key` until it answers `status`; the statuses it answered on the way. */
  async function untilAnswered(key: string, status: number): Promise<number[]> {
    const seen: number[] = [];
    const deadline = Date.now() + 20_000;
    while (seen.at(-1) !== status) {
      if (Date.now() > deadline) throw new Error(`still no ${status} after 20 s and ${seen.length} requests (the last: ${seen.slice(-5).join(", ")})`);
      seen.push(...(await statuses(key, 1, other)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return seen;
  }

  it("enforces a limit set on the first gateway within its refresh interval, and lifts it when removed there", async () => {
    admins["ward-6"] = await gw.issueKey("ward-6", ["admin"]);
    const ward = await gw.issueKey("ward-6", ["infer"]);
    expect(await statuses(ward, 3, other)).toEqual([200, 200, 200]);

    expect((await put("ward-6", { limits: { requestsPerMinute: 1, burst: 2 } })).status).toBe(200);
    // Nothing limited the tenant before: once taken, the new limit starts from a full burst of 2.
    expect((await untilAnswered(ward, 429)).slice(-3)).toEqual([200, 200, 429]);
    expect(await statuses(ward, 2, other)).toEqual([429, 429]);

    expect((await remove("ward-6")).status).toBe(200);
    await untilAnswered(ward, 200);
    expect(await statuses(ward, 5, other)).toEqual([200, 200, 200, 200, 200]);
  });
});
