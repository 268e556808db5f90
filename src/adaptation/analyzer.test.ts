import { describe, expect, it } from "vitest";
import { seededRng } from "../util/rng.js";
import type { AdapterRef } from "./adapters/interface.js";
import { noAdapters } from "./adapters/interface.js";
import { LearnedContextAnalyzer, type AdaptationContext, type AnalyzerOptions } from "./analyzer.js";
import { AdaptationLearner } from "./learner.js";

const context = (extra: Partial<AdaptationContext> = {}): AdaptationContext => ({
  tenant: "t", classification: "internal", endpoint: "chat.completions", taskType: "chat", declaredTask: "topic", schema: null, modelId: "m",
  contextTokens: 4096, inputTokens: 60, maxTokens: 16, structured: null, schemaShown: false, requested: "auto", expectedLatencyMs: null, ...extra,
});
const options: AnalyzerOptions = { minFeedback: 2, exemplars: { maxCount: 4, maxPromptTokens: 512 }, maxAddedLatencyMs: null };
const adapter: AdapterRef = { id: "m.topic.v1", sha256: "a".repeat(64), baseModel: "m", taskClass: "task:topic", tenant: null, version: 1, path: "/x.gguf", scale: 1 };

function analyzer(learner = new AdaptationLearner(100), frozen = false, extra: Partial<AnalyzerOptions> = {}, promptTokenMs: number | null = null) {
  return new LearnedContextAnalyzer(learner, { current: (model, cls) => (model === "m" && cls === "task:topic" ? adapter : null) }, { ...options, ...extra }, seededRng(1), () => frozen, () => promptTokenMs);
}

describe("the context analyzer", () => {
  it("names the class: a declared task first, then a registered schema, then endpoint and task type", () => {
    const a = new LearnedContextAnalyzer(new AdaptationLearner(10), noAdapters, options, seededRng(1), () => false);
    expect(a.analyze(context()).taskClass).toBe("task:topic");
    expect(a.analyze(context({ declaredTask: undefined, schema: { name: "ticket", version: 2 } })).taskClass).toBe("schema:ticket@2");
    expect(a.analyze(context({ declaredTask: undefined, taskType: "classification" })).taskClass).toBe("chat.completions:classification");
  });

  it("plans nothing when asked not to, and applies nothing while a class has too little feedback", () => {
    expect(analyzer().analyze(context({ requested: "off" }))).toMatchObject({ mode: "off", eligible: [], strategies: [] });
    const cold = analyzer().analyze(context({ structured: "json_schema" }));
    expect(cold).toMatchObject({ mode: "cold", strategies: [], eligible: ["parameters", "schema_instructions", "adapter"] });
  });

  it("applies what the caller names, where it can, with the learned parameters and the current adapter", () => {
    const plan = analyzer().analyze(context({ requested: { strategies: ["exemplars", "parameters", "schema_instructions", "adapter"] } }));
    expect(plan.mode).toBe("forced");
    // No schema on this request: schema instructions cannot apply.
    expect(plan.strategies).toEqual(["exemplars", "parameters", "adapter"]);
    expect(plan.preset?.id).toBe("operator");
    expect(plan.adapter).toBe(adapter);
    expect(plan.budget).toEqual({ exemplars: 4, exemplarTokens: 512 });
  });

  it("explores once the class has feedback, and applies the best learned plan when frozen", () => {
    const learner = new AdaptationLearner(100);
    learner.countFeedback("t", "task:topic", true);
    learner.countFeedback("t", "task:topic", true);
    for (let i = 0; i < 30; i++) learner.learn({ tenant: "t", taskClass: "task:topic", modelId: "m", eligible: ["exemplars", "parameters"], applied: ["exemplars"], preset: null }, 1, 1);
    expect(analyzer(learner).analyze(context()).mode).toBe("explore");
    const frozen = analyzer(learner, true).analyze(context());
    expect(frozen).toMatchObject({ mode: "learned", strategies: ["exemplars"], preset: null });
  });

  it("holds a free-text answer to the labels of the class's fitted adapter, where asked or learned", () => {
    const fitted: AdapterRef = { ...adapter, labels: ["sports", "politics"] };
    const withLabels = (cls: string) => (cls === "task:topic" ? fitted : null);
    const a = new LearnedContextAnalyzer(new AdaptationLearner(10), { current: (_model, cls) => withLabels(cls) }, options, seededRng(1), () => false);
    const plan = a.analyze(context({ requested: { strategies: ["labels"] } }));
    expect(plan).toMatchObject({ mode: "forced", strategies: ["labels"], labels: ["sports", "politics"], adapter: null });
    // An answer with a format of its own keeps it; an adapter an operator pinned has no labels to hold to.
    expect(a.analyze(context({ requested: { strategies: ["labels"] }, structured: "json_schema" })).eligible).not.toContain("labels");
    expect(analyzer().analyze(context({ requested: { strategies: ["labels"] } }))).toMatchObject({ strategies: [], labels: null });
  });

  it("names a structured answer's label field, and serves an adapter fitted at a field only to answers with it", () => {
    const fitted: AdapterRef = { ...adapter, labels: ["sports", "politics"], labelField: "topic" };
    const a = new LearnedContextAnalyzer(new AdaptationLearner(10), { current: (_model, cls) => (cls === "task:topic" ? fitted : null) }, options, seededRng(1), () => false);
    const schema = (topic: unknown, extra: Record<string, unknown> = {}) => ({ type: "object", properties: { ...extra, topic } });
    const forced = { requested: { strategies: ["adapter" as const, "labels" as const] } };
    const structured = (answerSchema: Record<string, unknown> | null) => a.analyze(context({ ...forced, structured: "json_schema", answerSchema }));
    expect(structured(schema({ enum: ["sports", "politics", "science"] }, { reason: { type: "string" } }))).toMatchObject({ labelField: "topic", strategies: ["adapter"], adapter: fitted, labels: null });
    // Another field, an enum without the adapter's labels, no schema, free text: not this adapter's position.
    expect(structured({ type: "object", properties: { subject: { enum: ["sports", "politics"] } } })).toMatchObject({ labelField: "subject", adapter: null, eligible: ["parameters", "schema_instructions"] });
    expect(structured(schema({ enum: ["sports", "science"] }))).toMatchObject({ labelField: "topic", adapter: null });
    expect(structured(null)).toMatchObject({ labelField: null, adapter: null });
    expect(a.analyze(context(forced))).toMatchObject({ labelField: null, strategies: [], adapter: null, labels: null });
    // A JSON object without a schema has no label field; an adapter fitted at the answer's start still serves answers of every kind.
    expect(a.analyze(context({ ...forced, structured: "json_object", answerSchema: schema({ enum: ["sports", "politics"] }) })).labelField).toBeNull();
    expect(analyzer().analyze(context({ ...forced, structured: "json_schema", answerSchema: schema({ enum: ["a", "b"] }) }))).toMatchObject({ labelField: "topic", adapter });
  });

  it("keeps exemplars within the context window and the latency budget", () => {
    const learner = new AdaptationLearner(100);
    learner.countFeedback("t", "task:topic", true);
    const forced = { requested: { strategies: ["exemplars" as const] } };
    expect(analyzer(learner).analyze(context({ ...forced, contextTokens: 300, inputTokens: 100, maxTokens: 100 })).budget.exemplarTokens).toBe(36);
    expect(analyzer(learner).analyze(context({ ...forced, contextTokens: 200, inputTokens: 100, maxTokens: 100 })).strategies).toEqual([]);
    expect(analyzer(learner, false, { maxAddedLatencyMs: 50 }, 0.5).analyze(context(forced)).budget.exemplarTokens).toBe(100);
  });
});
