import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/** GET /v1/decisions/{id}: the bidding decision `x-atomic-decision-id` names, to its own tenant only. */
let gw: TestGateway;
let ward7: string;
let ward8: string;
let auditor: string;
let taskId: string;

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  [ward7, ward8, auditor] = await Promise.all([gw.issueKey("ward-7", ["tasks"]), gw.issueKey("ward-8", ["infer", "tasks"]), gw.issueKey("ward-7", ["audit:read"])]);
  const response = await gw.post("/v1/tasks", { input: "Name one colour.", max_tokens: 4, seed: 1 }, as(ward7).headers);
  expect(response.status).toBe(200);
  taskId = response.headers.get("x-atomic-decision-id")!;
  expect(taskId).toBe(response.headers.get("x-atomic-execution-id"));
});
afterAll(async () => gw?.close());

describe("GET /v1/decisions/{id}", () => {
  it("serves the tenant's own decision: what the execution record holds, without its input and output", async () => {
    const response = await gw.fetch(`/v1/decisions/${taskId}`, as(ward7));
    expect(response.status).toBe(200);
    const decision = (await response.json()) as Record<string, unknown>;
    expect(decision).toMatchObject({ executionId: taskId, microtasks: [expect.objectContaining({ choice: expect.objectContaining({ model: expect.any(String) }) })] });
    const execution = (await (await gw.fetch(`/v1/executions/${taskId}`, as(ward7))).json()) as { decision: unknown };
    expect(decision).toEqual(execution.decision);
    expect(JSON.stringify(decision)).not.toContain("Name one colour");
  });

  it("answers another tenant's decision, an unknown id and an execution where nothing was bid for alike: 404 decision_not_found", async () => {
    const named = await gw.post("/v1/completions", { model: "tiny", prompt: "named", max_tokens: 2 }, as(ward8).headers);
    expect(named.headers.get("x-atomic-decision-id")).toBeNull();
    const answers = await Promise.all([
      gw.fetch(`/v1/decisions/${taskId}`, as(ward8)),
      gw.fetch("/v1/decisions/0190c1a2-0000-7000-8000-000000000000", as(ward7)),
      gw.fetch(`/v1/decisions/${named.headers.get("x-atomic-execution-id")}`, as(ward8)),
    ]);
    for (const response of answers) {
      expect(response.status).toBe(404);
      expect((await response.json()).error).toMatchObject({ code: "decision_not_found", param: "id", message: expect.not.stringContaining("ward") });
    }
  });

  it("refuses a malformed id, and a key without a scope that reads executions", async () => {
    const malformed = await gw.fetch("/v1/decisions/someone@example.org", as(ward7));
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ code: "invalid_parameter", param: "id" });
    const refused = await gw.fetch(`/v1/decisions/${taskId}`, as(auditor));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
  });
});
