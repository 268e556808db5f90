import { describe, expect, it } from "vitest";
import { featuresFromValues } from "./features.js";
import { BiddingRouter } from "./router.js";
import { ShadowLedger, shadowLabel } from "./shadow.js";
import { MemoryBiddingStore } from "./store/memory.js";
import type { Candidate } from "./request.js";

const x = featuresFromValues({ taskType: "chat", inputTokens: 20, schemaProperties: 0, schemaDepth: 0, nonAsciiShare: 0, items: 0 });

describe("shadow labels", () => {
  it("reads the served reward through agreement, and learns nothing where two differing answers may both be wrong", () => {
    expect(shadowLabel(true, 1)).toBe(1);
    expect(shadowLabel(true, 0)).toBe(0);
    expect(shadowLabel(true, 0.6)).toBe(0.6);
    expect(shadowLabel(false, 1)).toBe(0);
    expect(shadowLabel(false, 0.6)).toBeNull();
    expect(shadowLabel(false, 0)).toBeNull();
  });

  it("learns once both the comparison and the served reward are in, in either order, and follows a revised reward", () => {
    const ledger = new ShadowLedger(10);
    ledger.open("a", "cheap", x);
    expect(ledger.compared("a", false)).toBeNull();
    expect(ledger.served("a", 1)).toMatchObject({ modelId: "cheap", previous: null, label: 0 });
    // Feedback: the served answer was only partly right, so differing says nothing; what was learned stays.
    expect(ledger.served("a", 0.5)).toBeNull();
    ledger.open("b", "cheap", x);
    expect(ledger.served("b", 0.4)).toBeNull();
    expect(ledger.compared("b", true)).toMatchObject({ previous: null, label: 0.4 });
    expect(ledger.served("b", 0.9)).toMatchObject({ previous: 0.4, label: 0.9 });
    expect(ledger.served("b", 0.9)).toBeNull();
    expect(ledger.compared("b", false)).toBeNull();
  });

  it("forgets the oldest open shadow beyond its limit, and one that did not run", () => {
    const ledger = new ShadowLedger(2);
    for (const id of ["a", "b", "c"]) ledger.open(id, "cheap", x);
    expect(ledger.compared("a", true)).toBeNull();
    expect(ledger.served("a", 1)).toBeNull();
    ledger.drop("b");
    expect(ledger.compared("b", true)).toBeNull();
    expect(ledger.served("b", 1)).toBeNull();
    expect(ledger.compared("c", true)).toBeNull();
    expect(ledger.served("c", 1)).toMatchObject({ label: 1 });
  });
});

describe("the router's shadow runs", () => {
  const candidates = (cheapQueued: number): Candidate[] => [
    { id: "cheap", cost: { unit: "u", per1kPromptTokens: 1, per1kCompletionTokens: 1 }, contextLength: 4096, parallel: 1, strength: 0, state: "ready", inFlight: 0, queued: cheapQueued },
    { id: "dear", cost: { unit: "u", per1kPromptTokens: 100, per1kCompletionTokens: 100 }, contextLength: 4096, parallel: 1, strength: 1, state: "ready", inFlight: 0, queued: 0 },
  ];
  // The quality target 1 takes the best prediction: the dear model once it has been seen to succeed.
  const criteria = { qualityTarget: 1 };

  it("shadows the cheapest idle model beside a dearer choice, at the rate, and teaches it the compared outcome", async () => {
    let draw = 0;
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), shadow: { rate: 0.5, random: () => [0.2, 0.7][draw++ % 2]! } });
    await router.train([{ request: { kind: "chat", text: "q" }, modelId: "dear", score: 1 }, { request: { kind: "chat", text: "q" }, modelId: "cheap", score: 0 }]);
    const decide = (id: string, queued = 0) => router.decide({ executionId: id, request: { kind: "chat", text: "q" }, candidates: candidates(queued), criteria });
    const first = decide("e1");
    expect(first.modelId).toBe("dear");
    expect(first.shadow).toEqual({ microtaskId: "task", modelId: "cheap" });
    expect(first.record.shadow).toEqual({ microtask: "task", model: "cheap" });
    expect(decide("e2").shadow).toBeNull(); // the draw above the rate
    expect(decide("e3", 1).shadow).toBeNull(); // the cheap model is busy
    const seen = () => router.state().models["cheap"]!.observations;
    const before = seen();
    await router.recordOutcome({ executionId: "e1", modelId: "dear", promptTokens: 5, completionTokens: 2, queueMs: 0, inferenceMs: 10, schemaValid: true });
    expect(seen()).toBe(before);
    await router.recordShadowComparison("e1", true);
    expect(seen()).toBe(before + 1);
  });

  it("never shadows a choice of the cheapest model, nor while frozen", async () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), shadow: { rate: 1 } });
    const cheapOnly = router.decide({ executionId: "c1", request: { kind: "chat", text: "q" }, candidates: candidates(0), criteria: { qualityTarget: 0 } });
    expect(cheapOnly.modelId).toBe("cheap");
    expect(cheapOnly.shadow).toBeNull();
    await router.freeze();
    expect(router.decide({ executionId: "c2", request: { kind: "chat", text: "q" }, candidates: candidates(0), criteria }).shadow).toBeNull();
  });
});
