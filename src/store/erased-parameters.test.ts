import { describe, expect, it } from "vitest";
import { erasedParameters } from "./erased-parameters.js";

describe("erasedParameters", () => {
  it("keeps how a generation ran and drops the caller's stop sequences and anything not known to be safe", () => {
    const policy = { hash: "p", decision: "allow", classification: "internal", piiKinds: ["email"], purpose: "triage", redacted: true };
    expect(erasedParameters({ maxTokens: 8, temperature: 0, topP: 0.9, stop: ["[EMAIL_1]"], grammar: "json_schema", seed: 3, attempts: 2, policy, somethingNew: "text" }))
      .toEqual({ maxTokens: 8, temperature: 0, topP: 0.9, grammar: "json_schema", seed: 3, attempts: 2, policy });
    expect(erasedParameters({ inputs: 3 })).toEqual({ inputs: 3 });
  });

  it("keeps a task's microtasks as identities and outcomes, without messages", () => {
    const erased = erasedParameters({
      workflow: { workflowId: "w", runId: "r" },
      microtasks: [
        { id: "item-1", status: "failed", model: "a", taskQueue: "q", executionId: "e", fallbacks: [{ model: "b", taskQueue: null, outcome: "failed", code: "c", message: "quoted text" }], error: { code: "all_models_failed", message: "last: quoted text" } },
        "not an object",
      ],
    });
    expect(erased).toEqual({
      workflow: { workflowId: "w", runId: "r" },
      microtasks: [{ id: "item-1", status: "failed", model: "a", taskQueue: "q", executionId: "e", fallbacks: [{ model: "b", taskQueue: null, outcome: "failed", code: "c" }], error: { code: "all_models_failed" } }, {}],
    });
  });

  it("keeps the adaptation record's ids, digests and sources, and nothing added to it later", () => {
    const adaptation = {
      taskClass: "task:topic", mode: "explore", eligible: ["exemplars", "parameters"], strategies: ["exemplars"], preset: null,
      sources: { temperature: "operator", maxTokens: "request" }, adapter: { id: "a", sha256: "d".repeat(64), version: 2 },
      exemplars: ["0190a0b4-0000-7000-8000-000000000001"], exemplarTokens: 41, budget: { exemplars: 4, exemplarTokens: 512 },
      reward: { automatic: 1, learned: false },
    };
    expect(erasedParameters({ topK: 40, minP: 0.05, repeatPenalty: { penalty: 1 }, adaptation: { ...adaptation, exemplarText: "quoted" } }))
      .toEqual({ topK: 40, minP: 0.05, repeatPenalty: { penalty: 1 }, adaptation });
  });
});
