import { describe, expect, it } from "vitest";
import { estimateTokens, extractFeatures, FEATURE_DIM, featuresFromValues, schemaShape, TASK_TYPES } from "./features.js";

describe("extractFeatures", () => {
  it("reads the kind of work from the request's shape and cue words", () => {
    expect(extractFeatures({ kind: "chat", text: "hello there" }).taskType).toBe("chat");
    expect(extractFeatures({ kind: "completion", text: "Once upon a time" }).taskType).toBe("completion");
    expect(extractFeatures({ kind: "task", text: "Summarize this article: ..." }).taskType).toBe("summarization");
    expect(extractFeatures({ kind: "task", text: "a review", instructions: "Classify the sentiment" }).taskType).toBe("classification");
    expect(extractFeatures({ kind: "task", text: "invoice text", instructions: "Extract the totals", schema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" }, c: { type: "string" } } } }).taskType).toBe("extraction");
    expect(extractFeatures({ kind: "task", text: "x", schema: { type: "object", properties: { a: { type: "string" } } } }).taskType).toBe("structured");
    expect(extractFeatures({ kind: "chat", text: "x", jsonObject: true }).taskType).toBe("structured");
    // One enum answer is a classification whatever the words say.
    expect(extractFeatures({ kind: "task", text: "is this spam?", schema: { type: "object", properties: { label: { enum: ["spam", "ham"] } } } }).taskType).toBe("classification");
  });

  it("builds a fixed-length vector: bias, one task type, scaled numbers", () => {
    const features = extractFeatures({ kind: "task", text: "Summarize: " + "word ".repeat(400) });
    expect(features.vector).toHaveLength(FEATURE_DIM);
    expect(features.vector[0]).toBe(1);
    const typeSlots = [...features.vector.slice(1, 1 + TASK_TYPES.length)];
    expect(typeSlots.filter((v) => v === 1)).toHaveLength(1);
    expect(typeSlots[TASK_TYPES.indexOf("summarization")]).toBe(1);
    for (const value of features.vector) expect(value).toBeGreaterThanOrEqual(0), expect(value).toBeLessThanOrEqual(1);
  });

  it("estimates tokens, length bucket and script cheaply", () => {
    const ascii = extractFeatures({ kind: "chat", text: "a".repeat(4000) });
    const cjk = extractFeatures({ kind: "chat", text: "漢".repeat(4000) });
    expect(ascii.inputTokens).toBe(1000);
    expect(ascii.nonAsciiShare).toBe(0);
    expect(cjk.nonAsciiShare).toBe(1);
    expect(cjk.inputTokens).toBeGreaterThan(ascii.inputTokens * 2);
    expect(ascii.lengthBucket).toBe(2);
    expect(ascii.key).toBe("chat:L2:S0:ascii");
    expect(cjk.key).toBe("chat:L3:S0:other");
    // Instructions and history cost prompt tokens too.
    expect(extractFeatures({ kind: "chat", text: "a".repeat(4000), instructions: "b".repeat(400), historyChars: 3600 }).inputTokens).toBe(2000);
    expect(estimateTokens(0, 0)).toBe(0);
  });

  it("measures schema complexity through nesting, arrays and definitions", () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string" },
        address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } },
        lines: { type: "array", items: { $ref: "#/$defs/line" } },
      },
      $defs: { line: { type: "object", properties: { sku: { type: "string" }, qty: { type: "integer" } } } },
    };
    // $defs count where they are declared; the $ref is not followed.
    expect(schemaShape(schema)).toEqual({ properties: 7, depth: 2 });
    const features = extractFeatures({ kind: "task", text: "x", schema });
    expect(features.schemaProperties).toBe(7);
    expect(features.schemaDepth).toBe(2);
    expect(features.json).toBe(true);
  });

  it("counts enumerated items, not bullets", () => {
    expect(extractFeatures({ kind: "chat", text: "Answer:\n1. first question here\n2. second question here\n3. third one" }).items).toBe(3);
    expect(extractFeatures({ kind: "chat", text: "Rules:\n- be short\n- be kind" }).items).toBe(0);
    expect(extractFeatures({ kind: "chat", text: "## Intro\ntext\n## Body\ntext" }).items).toBe(2);
  });

  it("stays bounded on a very large prompt", () => {
    const features = extractFeatures({ kind: "chat", text: `${"x".repeat(1_000_000)}\n1. a\n2. b` });
    expect(features.inputTokens).toBeGreaterThan(250_000);
    expect(features.lengthBucket).toBe(4);
    expect(features.items).toBe(0); // the list lies beyond the scanned head
  });

  it("builds the same vector from raw values as the replay table supplies them", () => {
    const a = featuresFromValues({ taskType: "extraction", inputTokens: 300, schemaProperties: 4, schemaDepth: 1 });
    const b = featuresFromValues({ taskType: "extraction", inputTokens: 300, schemaProperties: 4, schemaDepth: 1, json: true });
    expect([...a.vector]).toEqual([...b.vector]);
    expect(a.key).toBe("extraction:L2:S1:ascii");
  });
});
