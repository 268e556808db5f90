import { describe, expect, it } from "vitest";
import { BoundedParameterAdjuster, generationSampling, PRESETS, resolveSampling } from "./parameters.js";

const creative = PRESETS.find((p) => p.id === "creative")!;

describe("sampling parameters", () => {
  it("takes the request's value first, then the learned one within the operator's bounds, then the operator's default", () => {
    const resolved = resolveSampling({
      request: { temperature: 0.1 },
      learned: { temperature: 1.5, topP: 0.5, maxTokens: 900 },
      operator: { temperature: 0.7, minP: 0.02, maxTokens: 256 },
      bounds: { topP: { min: 0.8 }, maxTokens: { max: 512 } },
    });
    expect(resolved.values).toEqual({ temperature: 0.1, topP: 0.8, minP: 0.02, maxTokens: 512 });
    expect(resolved.sources).toEqual({ temperature: "request", topP: "learned", minP: "operator", maxTokens: "learned" });
  });

  it("applies nothing learned when the plan does not adjust parameters", () => {
    const adjuster = new BoundedParameterAdjuster({ temperature: 0.7 }, {});
    expect(adjuster.adjust({ requested: {}, learned: null, defaultMaxTokens: 256 })).toEqual({
      values: { temperature: 0.7, maxTokens: 256 }, sources: { temperature: "operator", maxTokens: "operator" },
    });
    const learned = adjuster.adjust({ requested: { maxTokens: 8 }, learned: { preset: creative, maxTokens: 40 }, defaultMaxTokens: 256 });
    expect(learned.values).toEqual({ temperature: 1, topP: 0.95, minP: 0.05, maxTokens: 8 });
    expect(learned.sources).toEqual({ temperature: "learned", topP: "learned", minP: "learned", maxTokens: "request" });
  });

  it("puts what a strategy requires between the request and what was learned", () => {
    const adjuster = new BoundedParameterAdjuster({ temperature: 0.7 }, {});
    const held = adjuster.adjust({ requested: {}, learned: { preset: creative, maxTokens: null }, strategy: { temperature: 0 }, defaultMaxTokens: 16 });
    expect(held.values).toEqual({ temperature: 0, topP: 0.95, minP: 0.05, maxTokens: 16 });
    expect(held.sources).toEqual({ temperature: "strategy", topP: "learned", minP: "learned", maxTokens: "operator" });
    const asked = adjuster.adjust({ requested: { temperature: 0.9 }, learned: null, strategy: { temperature: 0 }, defaultMaxTokens: 16 });
    expect(asked.sources.temperature).toBe("request");
    expect(asked.values.temperature).toBe(0.9);
  });

  it("groups penalties as llama.cpp takes them, the repeat penalty off (as when none is given) when only presence is set", () => {
    expect(generationSampling({ temperature: 0 })).toEqual({ temperature: 0 });
    expect(generationSampling({ temperature: 0, presencePenalty: 0.2 })).toEqual({ temperature: 0, repeatPenalty: { penalty: 1, presencePenalty: 0.2 } });
    expect(generationSampling({ temperature: 0.3, repeatPenalty: 1, topK: 40 })).toEqual({ temperature: 0.3, topK: 40, repeatPenalty: { penalty: 1 } });
  });
});
