import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Reads that answer with a request's stored input or output are audit events (who looked at what was asked), and so
 * are judgements that teach the learner (who rated what).
 */
let gw: TestGateway;
let ward7: string;
let ward8: string;
let executionId: string;
const SECRET = "ward 7 patient 4711 has condition X";

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

async function eventOf(response: Response) {
  const id = response.headers.get("x-atomic-audit-event-id");
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  await gw.gateway.audit.sequencer.drain();
  return (await auditEvents(gw.databaseUrl)).find((event) => event.id === id);
}

async function leavesHolding(text: string): Promise<number> {
  const client = new pg.Client({ connectionString: gw.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE position($1::bytea IN leaf) > 0", [Buffer.from(text)]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  [ward7, ward8] = await Promise.all([gw.issueKey("ward-7", ["infer"]), gw.issueKey("ward-8", ["infer"])]);
  const response = await gw.post("/v1/completions", { model: "tiny", prompt: SECRET, max_tokens: 2 }, as(ward7).headers);
  expect(response.status).toBe(200);
  executionId = response.headers.get("x-atomic-execution-id")!;
});
afterAll(async () => gw?.close());

describe("reads of stored content", () => {
  it("records the tenant's read of its own execution as content.read, naming the record and never its content", async () => {
    const response = await gw.fetch(`/v1/executions/${executionId}`, as(ward7));
    expect(response.status).toBe(200);
    expect((await response.json()).input).toMatchObject({ prompt: SECRET });
    expect(await eventOf(response)).toMatchObject({
      kind: "content.read",
      actor: { tenant: "ward-7", subject: expect.stringMatching(/^apikey:/) },
      request: { endpoint: "GET /v1/executions/:id" },
      outcome: { status: "succeeded" },
      detail: { executionId },
    });
    expect(await leavesHolding(SECRET)).toBe(0);
  });

  it("records a refused read with its code: another tenant's record, as unknown as one that never was", async () => {
    const before = (await auditEvents(gw.databaseUrl)).length;
    const other = await gw.fetch(`/v1/executions/${executionId}`, as(ward8));
    expect(other.status).toBe(404);
    expect((await other.json()).error.code).toBe("execution_not_found");
    await gw.gateway.audit.sequencer.drain();
    const added = (await auditEvents(gw.databaseUrl)).slice(before);
    expect(added).toContainEqual(expect.objectContaining({
      kind: "content.read", actor: expect.objectContaining({ tenant: "ward-8" }), outcome: { status: "failed", code: "execution_not_found" }, detail: { executionId },
    }));
  });

  it("refuses a malformed id before reading anything, and records no caller text", async () => {
    const before = (await auditEvents(gw.databaseUrl)).length;
    const malformed = await gw.fetch("/v1/executions/someone@example.org", as(ward7));
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ code: "invalid_parameter", param: "id" });
    await gw.gateway.audit.sequencer.drain();
    const added = (await auditEvents(gw.databaseUrl)).slice(before);
    expect(added).toContainEqual(expect.objectContaining({ kind: "content.read", outcome: { status: "failed", code: "invalid_parameter" }, detail: {} }));
    expect(await leavesHolding("someone@example.org")).toBe(0);
  });

  it("records an operator's read of any tenant's execution, naming whose record it was", async () => {
    const response = await gw.fetch(`/v1/admin/executions/${executionId}`);
    expect(response.status).toBe(200);
    expect(await eventOf(response)).toMatchObject({
      kind: "content.read",
      actor: { tenant: "default" },
      request: { endpoint: "GET /v1/admin/executions/:id" },
      detail: { executionId, tenant: "ward-7" },
    });
  });

  it("shows the tenant its own reads on its event stream, as part of its work", async () => {
    const stream = await gw.fetch("/v1/events?after=0&kinds=content.read", as(ward7));
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = "";
    while (!text.includes("event: content.read")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain(executionId);
  });
});

describe("judgements", () => {
  it("records feedback as feedback.recorded: who judged which execution, the score and what was learned, never the comment", async () => {
    const comment = "the answer named patient 4711's ward wrongly";
    const response = await gw.post("/v1/feedback", { execution_id: executionId, score: 0.25, comment }, as(ward7).headers);
    expect(response.status).toBe(200);
    const answer = await response.json();
    await gw.gateway.audit.sequencer.drain();
    const recorded = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "feedback.recorded");
    expect(recorded).toEqual([expect.objectContaining({
      actor: expect.objectContaining({ tenant: "ward-7" }),
      request: expect.objectContaining({ endpoint: "POST /v1/feedback", executionId }),
      outcome: { status: "succeeded" },
      detail: { score: 0.25, outcomes: answer.outcomes, learned: answer.learned, commented: true, corrected: false, adaptationLearned: answer.adaptation?.learned ?? false },
    })]);
    expect(await leavesHolding("wrongly")).toBe(0);
  });

  it("records nothing for feedback it refuses", async () => {
    const refused = await gw.post("/v1/feedback", { execution_id: executionId, score: 0.5 }, as(ward8).headers);
    expect(refused.status).toBe(404);
    await gw.gateway.audit.sequencer.drain();
    const recorded = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "feedback.recorded");
    expect(recorded.every((event) => event.actor?.tenant === "ward-7")).toBe(true);
  });
});
