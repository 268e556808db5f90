import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * GET /v1/admin/bidding/history on real inference: requests routed by bidding (model "auto") through the real
 * pipeline, feedback given on some, and the history held against what each answer said (which model, which task
 * class) and what feedback was given.
 */
let gw: TestGateway;
let wardKey: string;
let started: Date;

interface Made {
  id: string;
  model: string;
  taskClass: string;
  tenant: string;
  score: number | null;
}
const made: Made[] = [];

const as = (key: string) => ({ authorization: `Bearer ${key}` });
type Json = Record<string, any>;

async function history(query = ""): Promise<Json> {
  const response = await gw.fetch(`/v1/admin/bidding/history${query}`);
  expect(response.status, query).toBe(200);
  return response.json();
}

/** One chat request routed by bidding; its model as answered and its task class as stored with its execution. */
async function ask(tenant: string, headers: Record<string, string>, task: string, content: string): Promise<Made> {
  const response = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content }], max_tokens: 4, seed: 1, atomic_task: task }, headers);
  expect(response.status).toBe(200);
  const body = await response.json();
  const id = response.headers.get("x-atomic-execution-id")!;
  const stored = await (await gw.fetch(`/v1/admin/executions/${id}`)).json();
  expect(stored.decision.microtasks[0].choice.model).toBe(body.model);
  const entry = { id, model: body.model as string, taskClass: stored.parameters.adaptation?.taskClass ?? `chat.completions:${stored.decision.microtasks[0].features.taskType}`, tenant, score: null };
  made.push(entry);
  return entry;
}

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "small", options: { seed: 1, embeddingLength: 64 }, capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 } },
      { id: "large", options: { seed: 2, embeddingLength: 128, layers: 4 }, capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 10, per1kCompletionTokens: 20 } },
    ]),
  });
  wardKey = await gw.issueKey("ward-2", ["infer"]);
  started = new Date(Date.now() - 1000);
  for (let i = 0; i < 8; i++) await ask("default", {}, "triage", `Is patient ${i} to be seen today? Answer yes or no.`);
  for (let i = 0; i < 4; i++) await ask("ward-2", as(wardKey), "summary", `Summarise: bed ${i} was cleaned.`);
  // Feedback on most of them: 0.25 or 0.75 by turns, the last of two scores counting where one is given twice.
  for (const [i, entry] of made.entries()) {
    if (i % 4 === 3) continue;
    const score = i % 2 === 0 ? 0.25 : 0.75;
    if (i === 0) expect((await gw.post("/v1/feedback", { execution_id: entry.id, score: 1 })).status).toBe(200);
    const response = await gw.post("/v1/feedback", { execution_id: entry.id, score }, entry.tenant === "default" ? {} : as(wardKey));
    expect(response.status).toBe(200);
    entry.score = score;
  }
}, 120_000);
afterAll(async () => gw?.close());

const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const countBy = (entries: Made[]) => entries.reduce<Record<string, number>>((counts, e) => ({ ...counts, [e.model]: (counts[e.model] ?? 0) + 1 }), {});

describe("GET /v1/admin/bidding/history", () => {
  it("counts every routed request per model and shows what was predicted, chosen and observed", async () => {
    const body = await history(`?since=${started.toISOString()}&buckets=6`);
    expect(body).toMatchObject({ object: "bidding.history", since: started.toISOString(), tenant: null, totals: { decisions: made.length } });
    expect(body.buckets).toHaveLength(6);
    expect(body.buckets.reduce((sum: number, b: Json) => sum + b.decisions, 0)).toBe(made.length);
    expect(body.buckets.at(-1).end).toBe(body.until);
    // Each model's share of the calls, as the answers named them.
    const expected = countBy(made);
    expect(Object.fromEntries(body.totals.models.map((m: Json) => [m.model, m.decisions]))).toEqual(expected);
    for (const m of body.totals.models) expect(m.share).toBeCloseTo(expected[m.model]! / made.length, 10);
    // Both models bid on every request: the best prediction is at least the chosen one's, the cheapest no dearer.
    const { predicted_quality: quality, cost } = body.totals;
    expect(quality.best).toBeGreaterThanOrEqual(quality.chosen);
    expect(quality.regret).toBeCloseTo(quality.best - quality.chosen, 10);
    expect(cost.cheapest).toBeLessThanOrEqual(cost.chosen);
    // Every request succeeded, so every one has an outcome; the feedback is the latest score of each judged one.
    expect(body.totals.outcome.count).toBe(made.length);
    const judged = made.filter((e) => e.score !== null).map((e) => e.score!);
    expect(body.totals.feedback.count).toBe(judged.length);
    expect(body.totals.feedback.mean).toBeCloseTo(mean(judged)!, 10);
  });

  it("per task class and model: the learner's predictions beside the feedback its choices got", async () => {
    const body = await history(`?since=${started.toISOString()}`);
    const classes = [...new Set(made.map((e) => e.taskClass))].sort();
    expect(classes).toEqual(["task:summary", "task:triage"]);
    for (const taskClass of classes) {
      const ofClass = made.filter((e) => e.taskClass === taskClass);
      for (const model of ["large", "small"]) {
        const row = body.classes.find((c: Json) => c.task_class === taskClass && c.model === model);
        // Both models are eligible for every request: each bid on all of the class's.
        expect(row, `${taskClass} ${model}`).toMatchObject({ bids: ofClass.length });
        expect(row.predicted_quality).toBeGreaterThan(0);
        const chosen = ofClass.filter((e) => e.model === model);
        expect(row.chosen).toBe(chosen.length);
        expect(row.outcome.count).toBe(chosen.length);
        const scores = chosen.filter((e) => e.score !== null).map((e) => e.score!);
        expect(row.feedback.count).toBe(scores.length);
        if (scores.length === 0) expect(row.feedback.mean).toBeNull();
        else expect(row.feedback.mean).toBeCloseTo(mean(scores)!, 10);
      }
    }
  });

  it("narrows to one tenant's executions, and an execution whose content was erased still counts", async () => {
    const ward = await history(`?since=${started.toISOString()}&tenant=ward-2`);
    const ofWard = made.filter((e) => e.tenant === "ward-2");
    expect(ward).toMatchObject({ tenant: "ward-2", totals: { decisions: ofWard.length } });
    expect(ward.classes.map((c: Json) => c.task_class)).toEqual(["task:summary", "task:summary"]);
    expect((await history(`?since=${started.toISOString()}&tenant=ward-404`)).totals.decisions).toBe(0);

    const before = await history(`?since=${started.toISOString()}`);
    const erased = await gw.post("/v1/admin/erasure", { execution_id: made[0]!.id });
    expect(erased.status).toBe(200);
    expect((await (await gw.fetch(`/v1/admin/executions/${made[0]!.id}`)).json()).content_erased).toBeTruthy();
    const after = await history(`?since=${started.toISOString()}`);
    expect(after.totals).toEqual(before.totals);
    expect(after.classes).toEqual(before.classes);
  });

  it("a window before any decision is empty, every bucket listed", async () => {
    const body = await history("?since=2025-01-01T00:00:00Z&until=2025-01-02T00:00:00Z&buckets=3");
    expect(body.totals).toMatchObject({ decisions: 0, models: [], predicted_quality: { chosen: null, best: null, regret: null }, feedback: { mean: null, count: 0 } });
    expect(body.buckets.map((b: Json) => [b.start, b.decisions])).toEqual([["2025-01-01T00:00:00.000Z", 0], ["2025-01-01T08:00:00.000Z", 0], ["2025-01-01T16:00:00.000Z", 0]]);
    expect(body.classes).toEqual([]);
  });

  it("refuses bad parameters with stable codes, and callers without the admin scope", async () => {
    for (const [query, code] of [
      ["buckets=0", "invalid_parameter"],
      ["buckets=169", "invalid_parameter"],
      ["buckets=two", "invalid_parameter"],
      ["since=yesterday", "invalid_parameter"],
      ["tenant=%20bad", "invalid_parameter"],
      ["since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z", "invalid_parameter"],
      ["since=2025-01-01T00:00:00Z&until=2025-03-01T00:00:00Z", "window_too_long"],
      ["window=7d", "unknown_parameter"],
    ]) {
      const response = await gw.fetch(`/v1/admin/bidding/history?${query}`);
      expect(response.status, query).toBe(400);
      expect((await response.json()).error.code, query).toBe(code);
    }
    const refused = await gw.fetch("/v1/admin/bidding/history", { headers: as(wardKey) });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
  });
});
