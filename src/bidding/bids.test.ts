import { describe, expect, it } from "vitest";
import { bidCost, computeBids, queueFactor } from "./bids.js";
import { PerformanceEstimates } from "./estimates.js";
import { featuresFromValues } from "./features.js";
import type { Candidate } from "./request.js";
import { LinUcbPolicy } from "./selection/linucb.js";

function candidate(id: string, overrides: Partial<Candidate> = {}): Candidate {
  return {
    id,
    cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 3 },
    contextLength: 4096,
    parallel: 2,
    strength: 1,
    state: "ready",
    inFlight: 0,
    queued: 0,
    ...overrides,
  };
}

const CHAT = featuresFromValues({ taskType: "chat", inputTokens: 500 });

describe("bids", () => {
  it("costs prompt and expected completion tokens at the model's per-1k prices", () => {
    expect(bidCost(candidate("m"), 500, 200)).toBeCloseTo((500 * 1 + 200 * 3) / 1000, 12);
    const estimates = new PerformanceEstimates();
    const [bid] = computeBids([candidate("m")], CHAT, undefined, new LinUcbPolicy(), estimates);
    expect(bid!.promptTokens).toBe(500);
    expect(bid!.completionTokens).toBe(estimates.expectedCompletionTokens(CHAT));
    expect(bid!.cost).toBeCloseTo((500 + 3 * bid!.completionTokens) / 1000, 12);
    expect(bid!.costUnit).toBe("compute-seconds");
  });

  it("expects no more completion tokens than max_tokens allows, and JSON in proportion to the schema", () => {
    const estimates = new PerformanceEstimates();
    expect(estimates.expectedCompletionTokens(CHAT, 16)).toBe(16);
    const small = featuresFromValues({ taskType: "structured", inputTokens: 100, schemaProperties: 2 });
    const large = featuresFromValues({ taskType: "structured", inputTokens: 100, schemaProperties: 20 });
    expect(estimates.expectedCompletionTokens(large)).toBeGreaterThan(5 * estimates.expectedCompletionTokens(small));
  });

  it("never lets a rate go negative, however the first requests fall", () => {
    const estimates = new PerformanceEstimates();
    estimates.observe("m", CHAT, 100, 10, 1);
    const speed = estimates.speed("m");
    expect(speed.msPerPromptToken).toBeGreaterThan(0);
    expect(speed.msPerCompletionToken).toBeGreaterThan(0);
  });

  it("learns completion tokens per task type from outcomes", () => {
    const estimates = new PerformanceEstimates();
    for (let i = 0; i < 50; i++) estimates.observe("m", CHAT, 500, 40, 1000);
    expect(estimates.expectedCompletionTokens(CHAT)).toBeCloseTo(40, 6);
  });

  it("learns how much each model writes, so a terse model with a dear completion price bids at its real cost", () => {
    const estimates = new PerformanceEstimates();
    // The same kind of request: the terse model answers in 2 tokens, the verbose one in 60.
    for (let i = 0; i < 30; i++) {
      estimates.observe("terse", CHAT, 500, 2, 100);
      estimates.observe("verbose", CHAT, 500, 60, 1000);
    }
    expect(estimates.expectedCompletionTokens(CHAT, undefined, "terse")).toBeLessThan(6);
    expect(estimates.expectedCompletionTokens(CHAT, undefined, "verbose")).toBeGreaterThan(55);
    // A model not yet measured expects what every model wrote.
    expect(estimates.expectedCompletionTokens(CHAT, undefined, "new")).toBeCloseTo(estimates.expectedCompletionTokens(CHAT), 9);
    const [terse, verbose] = computeBids([
      candidate("terse", { cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 30 } }),
      candidate("verbose", { cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 3 } }),
    ], CHAT, undefined, new LinUcbPolicy(), estimates);
    expect(terse!.cost).toBeLessThan(verbose!.cost);
    const restored = new PerformanceEstimates();
    restored.importState(JSON.parse(JSON.stringify(estimates.exportState())));
    expect(restored.expectedCompletionTokens(CHAT, undefined, "terse")).toBeCloseTo(estimates.expectedCompletionTokens(CHAT, undefined, "terse"), 9);
  });

  it("keeps a model's completion lengths across a restart when its timings gave no speed fit", () => {
    const estimates = new PerformanceEstimates();
    // A negative inference time (a clock step) is no evidence of speed, but the answer's length still is.
    for (let i = 0; i < 10; i++) {
      estimates.observe("m", CHAT, 500, 3, -1);
      estimates.observe("other", CHAT, 500, 60, 1000);
    }
    expect(estimates.expectedCompletionTokens(CHAT, undefined, "m")).toBeLessThan(20);
    const restored = new PerformanceEstimates();
    restored.importState(JSON.parse(JSON.stringify(estimates.exportState())));
    expect(restored.expectedCompletionTokens(CHAT, undefined, "m")).toBeCloseTo(estimates.expectedCompletionTokens(CHAT, undefined, "m"), 9);
    expect(restored.speed("m").observations).toBe(0);
  });

  it("reads estimates saved before completion lengths were kept per model", () => {
    const estimates = new PerformanceEstimates();
    for (let i = 0; i < 10; i++) estimates.observe("m", CHAT, 500, 40, 1000);
    const state = estimates.exportState();
    const { completionTokens: _tokens, completionObservations: _observations, ...speedOnly } = state.models["m"]!;
    const restored = new PerformanceEstimates();
    restored.importState({ ...state, models: { m: speedOnly } });
    expect(restored.expectedCompletionTokens(CHAT, undefined, "m")).toBeCloseTo(40, 6);
    expect(restored.speed("m").observations).toBe(10);
  });

  it("expects latency from prefill and generation speed, stretched by the queue ahead", () => {
    const estimates = new PerformanceEstimates({ prefillTokensPerSecond: 1000, generationTokensPerSecond: 10 });
    const completion = estimates.expectedCompletionTokens(CHAT);
    const service = 500 + completion * 100;
    const bids = computeBids(
      [candidate("idle"), candidate("busy", { inFlight: 2, queued: 2 })],
      CHAT, undefined, new LinUcbPolicy(), estimates,
    );
    expect(bids[0]!.latencyMs).toBeCloseTo(service, 6);
    // Two in flight fill both slots; they and the two queued drain two at a time: 3 requests ahead → ×2.5.
    expect(bids[1]!.latencyMs).toBeCloseTo(service * 2.5, 6);
    expect(queueFactor({ inFlight: 1, queued: 0, parallel: 2 })).toBe(1);
    expect(queueFactor({ inFlight: 2, queued: 0, parallel: 2 })).toBe(1.5);
    expect(queueFactor({ inFlight: 1, queued: 3, parallel: 1 })).toBe(5);
  });

  it("separates prefill from generation speed as requests of different shapes are measured", () => {
    const estimates = new PerformanceEstimates();
    // The model prefills at 2000 tokens/s (0.5 ms/token) and generates at 50 tokens/s (20 ms/token).
    const shapes: Array<[number, number]> = [[100, 10], [2000, 50], [300, 200], [4000, 20], [50, 300]];
    for (let i = 0; i < 200; i++) {
      const [prompt, completion] = shapes[i % shapes.length]!;
      estimates.observe("m", CHAT, prompt, completion, prompt * 0.5 + completion * 20);
    }
    // A faint pull towards the prior speeds remains; within 2 %.
    const speed = estimates.speed("m");
    expect(Math.abs(speed.msPerPromptToken / 0.5 - 1)).toBeLessThan(0.02);
    expect(Math.abs(speed.msPerCompletionToken / 20 - 1)).toBeLessThan(0.02);
    expect(Math.abs(estimates.serviceMs("m", 1000, 100) / 2500 - 1)).toBeLessThan(0.02);
    expect(speed.observations).toBe(200);
    const restored = new PerformanceEstimates();
    restored.importState(JSON.parse(JSON.stringify(estimates.exportState())));
    expect(restored.serviceMs("m", 1000, 100)).toBeCloseTo(estimates.serviceMs("m", 1000, 100), 9);
  });

  it("carries the learner's estimate as confidence", () => {
    const policy = new LinUcbPolicy();
    for (let i = 0; i < 100; i++) policy.update("good", CHAT, 1);
    for (let i = 0; i < 100; i++) policy.update("poor", CHAT, i % 4 === 0 ? 1 : 0);
    const [good, poor, unknown] = computeBids([candidate("good"), candidate("poor"), candidate("new")], CHAT, undefined, policy, new PerformanceEstimates());
    expect(good!.confidence).toBeGreaterThan(0.9);
    expect(poor!.confidence).toBeLessThan(0.4);
    expect(good!.observations).toBe(100);
    expect(unknown!.observations).toBe(0);
    expect(unknown!.confidenceUpper).toBeGreaterThan(unknown!.confidence);
    for (const bid of [good!, poor!, unknown!]) expect(bid.confidenceUpper).toBeGreaterThanOrEqual(bid.confidence);
  });

  it("marks models that are down or too small for the task", () => {
    const long = featuresFromValues({ taskType: "summarization", inputTokens: 4000 });
    const bids = computeBids(
      [candidate("ok", { contextLength: 32_768 }), candidate("short"), candidate("down", { state: "failed", contextLength: 32_768 }), candidate("both", { state: "stopped" })],
      long, undefined, new LinUcbPolicy(), new PerformanceEstimates(),
    );
    expect(bids.map((b) => [b.modelId, b.eligible, b.excludedBy])).toEqual([
      ["ok", true, []],
      ["short", false, ["context_length"]],
      ["down", false, ["unavailable"]],
      ["both", false, ["unavailable", "context_length"]],
    ]);
  });
});
