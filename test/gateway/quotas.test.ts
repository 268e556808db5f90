import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;
let rated: string;
let budgeted: string;
let other: string;

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }]),
    limits: {
      tenants: {
        "ward-7": { requestsPerMinute: 1, burst: 2 },
        "ward-9": { tokensPerDay: 20 },
      },
      tokenUsageRefreshMs: 0,
    },
  });
  rated = await gw.issueKey("ward-7", ["infer"]);
  budgeted = await gw.issueKey("ward-9", ["infer"]);
  other = await gw.issueKey("ward-8", ["infer"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const complete = (key: string, maxTokens = 2) => gw.post("/v1/completions", { model: "tiny", prompt: "go", max_tokens: maxTokens }, as(key));

describe("per-tenant quotas", () => {
  it("answers 429 with Retry-After past a tenant's request rate, without touching other tenants", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gw.fetch("/v1/models", { headers: as(rated) })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await gw.fetch("/v1/models", { headers: as(rated) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    for (let i = 0; i < 5; i++) expect((await gw.fetch("/v1/models", { headers: as(other) })).status).toBe(200);
  });

  it("stops generation once the day's token budget is spent, counting from the stored executions", async () => {
    const first = await complete(budgeted, 16);
    expect(first.status).toBe(200);
    const usage = (await first.json()).usage;
    expect(usage.total_tokens).toBeGreaterThanOrEqual(20);

    const second = await complete(budgeted);
    expect(second.status).toBe(429);
    const body = await second.json();
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "token_budget_exhausted" });
    expect(body.error.message).toContain(`(${usage.total_tokens})`);
    const retryAfter = Number(second.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // Reading is not spending: the listing still answers, and other tenants still generate.
    expect((await gw.fetch("/v1/models", { headers: as(budgeted) })).status).toBe(200);
    expect((await complete(other)).status).toBe(200);
  });

  it("records each 429 as a refusal in the audit log, with the tenant", async () => {
    await gw.gateway.audit.sequencer.drain();
    const events = await auditEvents(gw.databaseUrl);
    const refusals = events.filter((event) => event.kind === "request.refused").map((event) => [event.actor?.tenant, event.outcome?.code]);
    expect(refusals).toEqual(expect.arrayContaining([["ward-7", "rate_limited"], ["ward-9", "token_budget_exhausted"]]));
  });
});
