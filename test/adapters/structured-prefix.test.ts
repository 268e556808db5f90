import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel } from "node-llama-cpp";
import { AdapterFitService, type FitRequest } from "../../src/adaptation/adapters/fit-service.js";
import { answerPrefixGrammar, labelFieldOf } from "../../src/adaptation/adapters/fit/answer-prefix.js";
import { answerPrefixTokens } from "../../src/adaptation/adapters/fit/fit-job.js";
import { chatWrapperFor, promptTokens } from "../../src/inference/llama/chat-prompt.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import { loadCatalog } from "../../src/models/catalog.js";
import { loadManifest, modelFilePath } from "../../src/models/manifest.js";
import { createLogger } from "../../src/observability/logger.js";
import { compileJsonSchemaToGbnf } from "../../src/structured/index.js";
import { seededRng } from "../../src/util/rng.js";
import { writeTestModels, type TestModels } from "../support/models.js";

/**
 * Where a fit reads a structured answer's label: after the prompt and the answer's beginning up to the label
 * field's value, as the model itself writes it. The fit decodes that beginning under the prefix grammar
 * (answer-prefix.ts); here it is checked against what the model host writes under the request's whole grammar,
 * so the state the probe is fitted on is the one the model host chooses the label's first token from.
 */
const SCHEMA = {
  type: "object",
  properties: { count: { type: "integer", minimum: 0, maximum: 99 }, label: { type: "string", enum: ["x", "y", "z"] }, note: { type: "string", maxLength: 6 } },
  required: ["count", "label", "note"],
};
const FIRST = { type: "object", properties: { label: { enum: ["x", "y", "z"] }, note: { type: "string", maxLength: 6 } }, required: ["label", "note"] };
const WORDS = ["the", "a", "big", "small", "cat", "dog", "runs", "sits", "on", "mat", "red", "blue", "green"];

let models: TestModels;
let engine: LlamaEngine;
let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;
let sequence: LlamaContextSequence;

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  const catalog = loadCatalog({ manifestPath: models.manifestPath, dataDir: models.dir, testModelWhenEmpty: false });
  engine = new LlamaEngine({ models: catalog, threads: 1, gpu: "cpu", contextSize: 512, maxQueue: 16, queueTimeoutMs: 30_000, logger: createLogger({ level: "warn" }) });
  await engine.start();
  llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
  model = await llama.loadModel({ modelPath: models.pathOf("gen") });
  context = await model.createContext({ contextSize: 512, threads: 1, sequences: 1 });
  sequence = context.getSequence();
}, 120_000);
afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
  await engine?.close();
});

/** The answer's text up to where the label field's value begins (after its opening quote). */
function beforeValue(text: string, field: string): string {
  const match = new RegExp(`"${field}":(\\n {0,16}| )?"`).exec(text);
  if (match === null) throw new Error(`no ${field} in ${text}`);
  return text.slice(0, match.index + match[0].length);
}

describe("the beginning of a structured answer, up to its label field's value", () => {
  for (const [name, schema] of [["after other fields", SCHEMA], ["as the first field", FIRST]] as const) {
    it(`is written under the prefix grammar exactly as the model host writes it under the whole grammar (${name})`, async () => {
      const { field } = labelFieldOf(schema)!;
      expect(field).toBe("label");
      const grammar = compileJsonSchemaToGbnf(schema).grammar;
      const random = seededRng(7);
      const layouts = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const words = Array.from({ length: 5 }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(" ");
        const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: `Text: ${words}\nAnswer as JSON.` }] };
        const served = await engine.generate("gen", input, { maxTokens: 200, temperature: 0, grammar });
        const answer = JSON.parse(served.text) as Record<string, unknown>;
        const prefix = answerPrefixGrammar(field, answer)!;
        const tokens = await answerPrefixTokens(sequence, promptTokens(model, chatWrapperFor(model), input), await llama.createGrammar({ grammar: prefix.grammar }), prefix.maxChars);
        const written = model.detokenize(tokens);
        expect(written).toBe(beforeValue(served.text, field));
        layouts.add(JSON.stringify(written.replace(/[^\n ]/g, "")));
      }
      // The layout differs from prompt to prompt: no one fixed rendering of the prefix would be the model's.
      expect(layouts.size).toBeGreaterThan(1);
    }, 120_000);
  }
});

/** The colour word in a text names the label (as in fit.test.ts): a random-weight model cannot do it, and can be fitted to. */
const LABELS = ["x", "y", "z"];
const CUES: Record<string, string> = { x: "red", y: "blue", z: "green" };
function colourItems(count: number, seed: number) {
  const random = seededRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = LABELS[i % LABELS.length]!;
    const words = Array.from({ length: 4 }, () => WORDS.slice(0, 10)[Math.floor(random() * 10)]!);
    words.splice(Math.floor(random() * 5), 0, CUES[label]!);
    return { input: { kind: "chat" as const, messages: [{ role: "user" as const, content: `Text: ${words.join(" ")}\nLabel:` }] }, label };
  });
}

describe("fitting at the label field's position", () => {
  it("lifts the structured answers' accuracy, where a fit at the answer's start does not as much", async () => {
    const grammar = compileJsonSchemaToGbnf(SCHEMA).grammar;
    const catalog = loadCatalog({ manifestPath: models.manifestPath, dataDir: models.dir, testModelWhenEmpty: false });
    const service = new AdapterFitService({ manifestPath: models.manifestPath, models: catalog, record: async () => undefined });
    const examples: FitRequest["examples"] = [];
    for (const item of colourItems(60, 1)) {
      const answer = JSON.parse((await engine.generate("gen", item.input, { maxTokens: 200, temperature: 0, grammar })).text) as Record<string, unknown>;
      examples.push({ ...item, prefix: answerPrefixGrammar("label", answer)! });
    }
    const request: FitRequest = { baseModel: "gen", taskClass: null, labels: LABELS, labelField: "label", examples };
    const atField = await service.fit({ ...request, taskClass: "task:at-field" });
    const atStart = await service.fit({ ...request, taskClass: "task:at-start", labelField: undefined, examples: examples.map(({ input, label }) => ({ input, label })) });
    expect(loadManifest(models.manifestPath).adapters?.find((a) => a.id === atField.adapter.id)?.fit?.labelField).toBe("label");

    const held = colourItems(30, 99);
    const served = async (fitted: typeof atField | null) => {
      const adapter = fitted === null ? undefined : { id: fitted.adapter.id, path: modelFilePath(models.manifestPath, fitted.adapter), sha256: fitted.adapter.sha256, scale: 1 };
      let correct = 0;
      for (const item of held) {
        const answer = JSON.parse((await engine.generate("gen", item.input, { maxTokens: 200, temperature: 0, grammar, ...(adapter ? { adapter } : {}) })).text) as Record<string, unknown>;
        if (answer.label === item.label) correct++;
      }
      return correct / held.length;
    };
    const base = await served(null);
    const field = await served(atField);
    const start = await served(atStart);
    expect(field - base).toBeGreaterThanOrEqual(0.3);
    expect(field - start).toBeGreaterThanOrEqual(0.2);
  }, 300_000);
});
