import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Bidding on real inference: two generated models of different size and cost, chosen among by criteria, every
 * decision stored and shown, outcomes and feedback fed back.
 */
let gw: TestGateway;
let wardKey: string;
let frugalKey: string;
let otherKey: string;

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "small", options: { seed: 1, embeddingLength: 64 }, capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 } },
      { id: "large", options: { seed: 2, embeddingLength: 128, layers: 4 }, capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 10, per1kCompletionTokens: 20 } },
    ]),
    // The content-reading learner, so that decision records name n-grams; the routes and their audit are the same
    // whichever learner the gateway runs.
    bidding: { policy: "logistic-ts", features: "hashed", tenants: { frugal: { constraints: { maxCost: 0.01 } } } },
  });
  wardKey = await gw.issueKey("ward-7", ["infer", "tasks"]);
  frugalKey = await gw.issueKey("frugal", ["infer", "tasks"]);
  otherKey = await gw.issueKey("ward-8", ["infer", "tasks"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const task = (key: string, extra: Record<string, unknown> = {}) => gw.post("/v1/tasks", { input: "Summarise: the printer is jammed", max_tokens: 4, model: "auto", ...extra }, as(key));

async function decisionOf(executionId: string, key: string) {
  const stored = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: as(key) })).json();
  return stored.decision;
}

describe("model: auto", () => {
  it("bids both models, picks one, names the decision in headers, and stores the record with every bid", async () => {
    const response = await task(wardKey);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(response.headers.get("x-atomic-decision-id")).toBe(body.id);
    expect(["explore", "exploit"]).toContain(response.headers.get("x-atomic-routing"));

    const decision = await decisionOf(body.id, wardKey);
    expect(decision.executionId).toBe(body.id);
    const [microtask] = decision.microtasks;
    expect(microtask.bids.map((bid: { model: string }) => bid.model).sort()).toEqual(["large", "small"]);
    expect(microtask.choice.model).toBe(body.model);
    expect(microtask.choice.mode).toBe(response.headers.get("x-atomic-routing"));
    expect(microtask.bids.find((bid: { model: string }) => bid.model === "large").cost).toBeGreaterThan(microtask.bids.find((bid: { model: string }) => bid.model === "small").cost);
  });

  it("chooses by the content learner's default quality target unless a request sets weights", async () => {
    const defaulted = await decisionOf((await (await task(wardKey)).json()).id, wardKey);
    expect(defaulted.criteria).toMatchObject({ qualityTarget: 0.95, sources: { qualityTarget: "default" } });
    expect(typeof defaulted.criteria.qualitySlack).toBe("number");
    const weighted = await decisionOf((await (await task(wardKey, { criteria: { weights: { quality: 1, cost: 0.5 } } })).json()).id, wardKey);
    expect(weighted.criteria).toMatchObject({ qualityTarget: null, qualitySlack: null, sources: { qualityTarget: "request" } });
  });

  it("follows a request's cost constraint: the expensive model is excluded by max_cost, every time", async () => {
    for (let i = 0; i < 6; i++) {
      const response = await task(wardKey, { criteria: { constraints: { maxCost: 0.01 } }, seed: i });
      const body = await response.json();
      expect(body.model).toBe("small");
      const [microtask] = (await decisionOf(body.id, wardKey)).microtasks;
      expect(microtask.bids.find((bid: { model: string }) => bid.model === "large")).toMatchObject({ eligible: false, excludedBy: ["max_cost"] });
      expect((await decisionOf(body.id, wardKey)).criteria.sources.maxCost).toBe("request");
    }
  });

  it("applies the tenant's criteria from configuration, which a request may override", async () => {
    const constrained = await (await task(frugalKey)).json();
    expect(constrained.model).toBe("small");
    expect((await decisionOf(constrained.id, frugalKey)).criteria.sources.maxCost).toBe("tenant");

    const lifted = await (await task(frugalKey, { criteria: { constraints: { maxCost: null } } })).json();
    const [microtask] = (await decisionOf(lifted.id, frugalKey)).microtasks;
    expect(microtask.bids.every((bid: { eligible: boolean }) => bid.eligible)).toBe(true);
  });

  it("answers 422 no_eligible_model, naming who was excluded by what, when no bid meets the constraints", async () => {
    const response = await task(wardKey, { criteria: { constraints: { maxCost: 0 } } });
    expect(response.status).toBe(422);
    const { error } = await response.json();
    expect(error.code).toBe("no_eligible_model");
    expect(error.details.exclusions).toEqual(expect.arrayContaining([{ model: "large", excludedBy: ["max_cost"] }, { model: "small", excludedBy: ["max_cost"] }]));
  });

  it("routes a chat completion that names no model, and one that says auto", async () => {
    for (const model of [undefined, "auto"]) {
      const response = await gw.post("/v1/chat/completions", { ...(model ? { model } : {}), messages: [{ role: "user", content: "hi" }], max_tokens: 2 }, as(wardKey));
      expect(response.status).toBe(200);
      const executionId = response.headers.get("x-atomic-execution-id")!;
      expect(response.headers.get("x-atomic-decision-id")).toBe(executionId);
      expect(["small", "large"]).toContain((await response.json()).model);
    }
  });
});

describe("tracking and feedback", () => {
  it("tracks a request that names its model without bidding for it, and takes feedback on it", async () => {
    const response = await task(wardKey, { model: "large" });
    const body = await response.json();
    expect(response.headers.get("x-atomic-decision-id")).toBeNull();
    expect(await decisionOf(body.id, wardKey)).toBeNull();

    const feedback = await gw.post("/v1/feedback", { execution_id: body.id, score: 1 }, as(wardKey));
    expect(feedback.status).toBe(200);
    expect(await feedback.json()).toMatchObject({ object: "feedback", execution_id: body.id, outcomes: 1 });
  });

  it("revises the learner with feedback on a routed execution, from its own tenant only", async () => {
    const body = await (await task(wardKey)).json();
    const accepted = await gw.post("/v1/feedback", { execution_id: body.id, score: 0.2, comment: "too vague" }, as(wardKey));
    expect(await accepted.json()).toMatchObject({ outcomes: 1, learned: 1 });

    const foreign = await gw.post("/v1/feedback", { execution_id: body.id, score: 1 }, as(otherKey));
    expect(foreign.status).toBe(404);
    expect((await foreign.json()).error.code).toBe("execution_not_found");
    expect((await gw.post("/v1/feedback", { execution_id: "0190c1a2-0000-7000-8000-000000000000", score: 1 }, as(wardKey))).status).toBe(404);
    const outOfRange = await gw.post("/v1/feedback", { execution_id: body.id, score: 2 }, as(wardKey));
    expect(outOfRange.status).toBe(400);
  });

  it("writes how bidding chose into the execution's audit event", async () => {
    const body = await (await task(wardKey)).json();
    await gw.gateway.audit.sequencer.drain();
    const event = (await auditEvents(gw.databaseUrl)).find((logged) => logged.id === body.id)!;
    expect(event.detail?.["routing"]).toMatchObject({ chosen: body.model, mode: expect.stringMatching(/^(explore|exploit)$/) });
    expect((event.detail!["routing"] as { bids: unknown[] }).bids).toHaveLength(2);
  });
});

describe("warm start on a running gateway", () => {
  it("trains the learner from an outcome table posted by an admin, audited by the table's digest", async () => {
    const table = "prompt,model,score\n\"Prove that the sum of two even numbers is even\",small,0\n\"Prove that the sum of two even numbers is even\",large,1\n";
    const before = await (await gw.fetch("/v1/admin/bidding")).json();
    expect((await gw.fetch("/v1/admin/bidding/train", { method: "POST", body: table, headers: { ...as(wardKey), "content-type": "text/csv" } })).status).toBe(403);
    const response = await gw.fetch("/v1/admin/bidding/train", { method: "POST", body: table, headers: { "content-type": "text/csv" } });
    expect(response.status).toBe(200);
    const trained = await response.json();
    expect(trained).toMatchObject({ object: "bidding.training", source: "table", rows: 2, learned: 2, models: { small: 1, large: 1 } });
    expect(trained.version).toBeGreaterThan(before.version);
    expect(trained.sha256).toMatch(/^[0-9a-f]{64}$/);
    const bad = await gw.fetch("/v1/admin/bidding/train", { method: "POST", body: "prompt,model,score\nhi,small,7\n", headers: { "content-type": "text/csv" } });
    expect(bad.status).toBe(400);

    await gw.gateway.audit.sequencer.drain();
    const event = (await auditEvents(gw.databaseUrl)).find((logged) => logged.kind === "bidding.changed" && logged.detail?.["action"] === "train")!;
    expect(event.detail).toMatchObject({ source: "table", sha256: trained.sha256, rows: 2, version: trained.version });
    expect(JSON.stringify(event)).not.toContain("Prove that");
  });

  it("names the n-grams behind a choice in the decision record", async () => {
    const body = await (await task(wardKey, { input: "Prove that the sum of two even numbers is even" })).json();
    const [microtask] = (await decisionOf(body.id, wardKey)).microtasks;
    expect(microtask.features.content.indices.length).toBeGreaterThan(0);
    const terms = microtask.choice.explanation.flatMap((e: { terms: Array<{ text: string }> }) => e.terms.map((t) => t.text));
    expect(terms.length).toBeGreaterThan(0);
  });
});

describe("operator control of the learner", () => {
  it("freezes, unfreezes and resets through admin routes only, each change audited", async () => {
    expect((await gw.fetch("/v1/admin/bidding", { headers: as(wardKey) })).status).toBe(403);
    const initial = await (await gw.fetch("/v1/admin/bidding")).json();
    expect(initial).toMatchObject({ object: "bidding.state", frozen: false });

    const frozen = await (await gw.post("/v1/admin/bidding/freeze", {})).json();
    expect(frozen.frozen).toBe(true);
    const observed = (state: { models: Record<string, { observations: number }> }) =>
      Object.values(state.models).reduce((sum, model) => sum + model.observations, 0);
    const before = observed(frozen);
    expect((await task(wardKey)).status).toBe(200);
    // Frozen: it still chooses, and learns nothing from the outcome.
    expect(observed(await (await gw.fetch("/v1/admin/bidding")).json())).toBe(before);

    await gw.post("/v1/admin/bidding/unfreeze", {});
    expect((await task(wardKey)).status).toBe(200);
    expect(observed(await (await gw.fetch("/v1/admin/bidding")).json())).toBe(before + 1);

    const reset = await (await gw.post("/v1/admin/bidding/reset", {})).json();
    expect(reset.epoch).toBe(initial.epoch + 1);
    expect(observed(reset)).toBe(0);

    await gw.gateway.audit.sequencer.drain();
    const events = await auditEvents(gw.databaseUrl);
    const changes = events.filter((event) => event.kind === "bidding.changed").map((event) => event.detail?.["action"]);
    expect(changes.filter((action) => action !== "train")).toEqual(["freeze", "unfreeze", "reset"]);
  });
});
