import { describe, expect, it } from "vitest";
import type { Candidate } from "./request.js";
import { BiddingRouter } from "./router.js";
import { MemoryBiddingStore } from "./store/memory.js";

const NOW = new Date("2025-03-01T12:00:00.000Z");

function candidate(id: string, per1k: number, overrides: Partial<Candidate> = {}): Candidate {
  return {
    id, cost: { unit: "compute-seconds", per1kPromptTokens: per1k, per1kCompletionTokens: 3 * per1k }, contextLength: 8192,
    parallel: 2, strength: per1k, state: "ready", inFlight: 0, queued: 0, ...overrides,
  };
}

const CANDIDATES = [candidate("small", 0.1), candidate("large", 1), candidate("huge", 2, { contextLength: 16 })];

describe("decision record", () => {
  it("holds, per microtask, all bids, the criteria in force, scores, the choice and why, as plain JSON", () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), now: () => NOW, criteria: { weights: { quality: 3 } } });
    const { record } = router.decide({
      executionId: "0190a0b0-0000-7000-8000-000000000001",
      request: { kind: "task", text: "Classify the sentiment of: great phone", instructions: "Answer positive or negative." },
      candidates: CANDIDATES,
      criteria: { constraints: { maxCost: 5 } },
    });

    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    expect(Object.keys(record)).toEqual(["version", "executionId", "createdAt", "policy", "criteria", "planner", "microtasks"]);
    expect(record).toMatchObject({
      version: 1,
      executionId: "0190a0b0-0000-7000-8000-000000000001",
      createdAt: "2025-03-01T12:00:00.000Z",
      policy: { name: "linucb", frozen: false, epoch: 0 },
      planner: "single",
    });
    // Global weights without a target: the weights choose.
    expect(record.criteria).toMatchObject({ qualityTarget: null, qualitySlack: null });
    expect(record.criteria.sources).toMatchObject({ qualityTarget: "global", quality: "global", cost: "default", maxCost: "request", maxLatencyMs: "default" });
    expect(record.criteria.constraints).toEqual({ maxLatencyMs: null, maxCost: 5, minConfidence: null });

    const [task] = record.microtasks;
    expect(Object.keys(task!)).toEqual(["id", "kind", "executor", "dependsOn", "parallel", "fills", "features", "bids", "choice"]);
    expect(task).toMatchObject({ id: "task", kind: "whole", executor: "model", dependsOn: [], parallel: false, fills: null });
    expect(task!.features).toMatchObject({ taskType: "classification", json: false });
    expect(task!.features!.vector.length).toBeGreaterThan(0);
    expect(task!.bids.map((b) => b.model)).toEqual(["small", "large", "huge"]);
    expect(Object.keys(task!.bids[0]!)).toEqual([
      "model", "confidence", "confidenceUpper", "observations", "promptTokens", "completionTokens", "cost", "costUnit",
      "latencyMs", "score", "optimisticScore", "confidenceSample", "eligible", "excludedBy",
    ]);
    expect(task!.bids[2]).toMatchObject({ eligible: false, excludedBy: ["context_length"] });
    // Nothing is known yet: the choice is exploration, and the reason names who was excluded by what.
    expect(task!.choice).toMatchObject({ mode: "explore" });
    expect(task!.choice!.reason).toMatch(/excluded: huge \(context_length\)/);
  });

  it("records a decomposed request with its dependencies and a local assemble step that is not bid on", () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), now: () => NOW });
    const decision = router.decide({
      executionId: "e",
      request: { kind: "chat", text: "Please answer:\n1. What is the boiling point of water?\n2. What is the freezing point of water?" },
      candidates: CANDIDATES.slice(0, 2),
    });
    expect(decision.record.planner).toBe("items");
    expect(decision.record.microtasks.map((m) => [m.id, m.executor, m.dependsOn, m.parallel, m.bids.length, m.choice?.model ?? null])).toEqual([
      ["item-1", "model", [], true, 2, decision.assignments[0]!.modelId],
      ["item-2", "model", [], true, 2, decision.assignments[1]!.modelId],
      ["assemble", "local", ["item-1", "item-2"], false, 0, null],
    ]);
    expect(decision.record.microtasks[2]!.features).toBeNull();
    expect(decision.assignments.map((a) => a.microtaskId)).toEqual(["item-1", "item-2"]);
  });

  it("explains a fixed rule's choice as the rule", async () => {
    const { CheapestPolicy } = await import("./selection/baselines.js");
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), policy: new CheapestPolicy() });
    const { record } = router.decide({ executionId: "e", request: { kind: "chat", text: "hi" }, candidates: CANDIDATES });
    expect(record.microtasks[0]!.choice).toMatchObject({ model: "small", mode: "exploit" });
    expect(record.microtasks[0]!.choice!.reason).toMatch(/^fixed rule: the eligible bid with the lowest expected cost/);
  });
});
