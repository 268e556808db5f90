import { createHash } from "node:crypto";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HiddenStates } from "../../src/adaptation/adapters/fit/hidden-states.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import type { GenerationParams } from "../../src/inference/interface.js";
import { loadCatalog } from "../../src/models/catalog.js";
import { createLogger } from "../../src/observability/logger.js";
import { asciiToken, tokenAdapter } from "../support/adapters.js";
import { writeTestModels, type TestModels } from "../support/models.js";

let models: TestModels;
let engine: LlamaEngine;
const logs: Array<Record<string, unknown>> = [];
type Adapter = NonNullable<GenerationParams["adapter"]>;
const adapters: Record<string, Adapter> = {};

function pin(name: string, bytes: Buffer, scale = 1): Adapter {
  const path = join(models.dir, `${name}.gguf`);
  writeFileSync(path, bytes);
  return { id: name, path, sha256: createHash("sha256").update(bytes).digest("hex"), scale };
}

beforeAll(async () => {
  models = writeTestModels([{ id: "gen", parallel: 2 }]);
  // Each makes one letter certain: whatever the prompt, the model writes it again and again.
  for (const letter of ["Z", "Y", "X"]) adapters[letter] = pin(letter, tokenAdapter(asciiToken(letter), 8));
  adapters["tampered"] = pin("tampered", tokenAdapter(asciiToken("W"), 8));
  appendFileSync(adapters["tampered"].path, Buffer.from([0]));
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  engine = new LlamaEngine({
    models: loadCatalog({ manifestPath: models.manifestPath, dataDir: models.dir, testModelWhenEmpty: false }),
    threads: 1,
    gpu: "cpu",
    contextSize: 512,
    maxQueue: 16,
    queueTimeoutMs: 30_000,
    // Fewer adapter contexts than adapters: the pool must evict and recreate.
    maxAdapterContexts: 1,
    logger: createLogger({ level: "info", destination }),
  });
  await engine.start();
});
afterAll(async () => engine?.close());

const complete = (adapter?: Adapter, prompt = "The weather today is") =>
  engine.generate("gen", { kind: "completion", prompt }, { maxTokens: 6, temperature: 0, ...(adapter ? { adapter } : {}) });

describe("LoRA adapters applied per request by the model host", () => {
  it("changes the output in the known way, and only for the request that names the adapter", async () => {
    const plain = await complete();
    expect(plain.text).not.toBe("ZZZZZZ");
    expect((await complete(adapters["Z"])).text).toBe("ZZZZZZ");
    expect((await complete()).text).toBe(plain.text);
  });

  it("adds exactly scale · B·A·h to the logits (checked on the model itself)", async () => {
    // What the host applies is llama.cpp's LoRA arithmetic; this checks it against h read independently.
    const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, skipDownload: true, logLevel: LlamaLogLevel.error, progressLogs: false });
    const model = await llama.loadModel({ modelPath: models.pathOf("gen") });
    const tokens = [model.tokens.bos!, ...model.tokenize("Hello world, label:", false)];
    const token = (letter: string) => asciiToken(letter) as Token;
    const states = await HiddenStates.open(model, { contextSize: 256, threads: 1 });
    const h0 = (await states.of(tokens))[0]!;
    await states.close();
    const logRatio = async (lora?: { filePath: string; scale: number }) => {
      const context = await model.createContext({ contextSize: 256, ...(lora ? { lora: { adapters: [lora] } } : {}) });
      const out = await context.getSequence().controlledEvaluate([...tokens.slice(0, -1), [tokens.at(-1)!, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]]);
      const p = out.at(-1)!.next!.probabilities!;
      await context.dispose();
      return { zq: Math.log(p.get(token("Z"))! / p.get(token("q"))!), qk: Math.log(p.get(token("q"))! / p.get(token("k"))!) };
    };
    const before = await logRatio();
    const after = await logRatio({ filePath: adapters["Z"]!.path, scale: 0.25 });
    expect(after.zq - before.zq).toBeCloseTo(0.25 * 8 * h0, 3);
    expect(after.qk - before.qk).toBeCloseTo(0, 4);
    await llama.dispose();
  });

  it("refuses a tampered adapter before loading it, and goes on serving", async () => {
    await expect(complete(adapters["tampered"])).rejects.toMatchObject({ code: "adapter_digest_mismatch" });
    expect((await complete(adapters["Z"])).text).toBe("ZZZZZZ");
    await expect(complete({ ...adapters["Z"]!, path: join(models.dir, "absent.gguf"), sha256: "0".repeat(64) })).rejects.toMatchObject({ code: "adapter_file_missing" });
  });

  it("serves more adapters than it keeps contexts for, concurrent requests never sharing a context's state", async () => {
    const created = () => logs.filter((l) => l["msg"] === "adapter context created").length;
    const before = created();
    const sequence = ["Y", "X", "Y", "Z", "X"];
    for (const letter of sequence) expect((await complete(adapters[letter])).text).toBe(letter.repeat(6));
    // One context at a time: every change of adapter created one.
    expect(created() - before).toBe(sequence.length);
    const concurrent = await Promise.all([complete(adapters["X"]), complete(adapters["Y"]), complete(), complete(adapters["Z"])]);
    expect(concurrent.map((r) => r.text).slice(0, 2)).toEqual(["XXXXXX", "YYYYYY"]);
    expect(concurrent[2]!.text).not.toMatch(/^[XYZ]+$/);
    expect(concurrent[3]!.text).toBe("ZZZZZZ");
    expect(logs.filter((l) => l["msg"] === "adapter context freed").every((l) => l["reason"] === "room")).toBe(true);
  });
});
