/**
 * The GPU check: Atomic's inference path (LlamaEngine, its model host process, node-llama-cpp) on generated
 * random-weight models, on the device asked for, then tokens per second on that device and on the CPU for the same
 * generated 512×8 model.
 *
 *   node test/gpu/check.js --gpu cuda [--compare cpu] [--tokens 256] [--quick] [--threads N]
 *
 * deploy/gpu/run.sh runs it compiled on a GPU machine (deploy/gpu/README.md); the test suite runs it with
 * `--gpu cpu --quick --threads 1` (test/gpu/check.test.ts), so that it works the day a GPU is at hand. Each check
 * prints `ok` or `FAIL` with what it saw; any failure exits 1. Nothing here reaches beyond this machine.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { Ajv } from "ajv";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import type { LoadSpec } from "../../src/inference/llama/protocol.js";
import type { CatalogModel } from "../../src/models/catalog.js";
import { buildTestModel, type TestModelOptions } from "../../src/models/test-model.js";
import { createLogger } from "../../src/observability/logger.js";
import { compileJsonSchemaToGbnf } from "../../src/structured/json-schema-grammar.js";
import { asciiToken, tokenAdapter } from "../support/adapters.js";

type Device = LoadSpec["gpu"];
const DEVICES: readonly Device[] = ["cpu", "cuda", "vulkan", "auto"];

const { values: flags } = parseArgs({
  options: {
    gpu: { type: "string", default: "cuda" },
    compare: { type: "string" },
    tokens: { type: "string", default: "256" },
    quick: { type: "boolean", default: false },
    /** llama.cpp's CPU threads per model host; default: every one this machine has. */
    threads: { type: "string" },
  },
});

function device(name: string | undefined, flag: string): Device | undefined {
  if (name === undefined) return undefined;
  if (!(DEVICES as readonly string[]).includes(name)) throw new Error(`--${flag} must be one of ${DEVICES.join(", ")}`);
  return name as Device;
}

const TARGET = device(flags.gpu, "gpu")!;
const COMPARE = device(flags.compare, "compare");
const TOKENS = Number(flags.tokens);
const THREADS = flags.threads === undefined ? availableParallelism() : Number(flags.threads);
if (!Number.isInteger(THREADS) || THREADS < 1) throw new Error("--threads must be a whole number of at least 1");
/** The throughput model, as the gateway bench's "small (512x8)". */
const THROUGHPUT_MODEL: TestModelOptions = { seed: 1, embeddingLength: 512, layers: 8, heads: 8, feedForwardLength: 1536 };

const folder = mkdtempSync(join(tmpdir(), "atomic-gpu-check-"));
let failures = 0;

function report(name: string, passed: boolean, detail: string): void {
  if (!passed) failures++;
  console.log(`${passed ? "ok  " : "FAIL"} ${name}: ${detail}`);
}

function generatedModel(id: string, options: TestModelOptions, parallel: number): CatalogModel {
  const bytes = buildTestModel(options);
  const path = join(folder, `${id}.gguf`);
  writeFileSync(path, bytes);
  return {
    id, file: path, path, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, contextLength: 4096,
    capabilities: ["chat", "completion", "embedding"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 },
    parallel, testModel: true,
  };
}

/** An engine on one device, and what its model hosts said as they loaded (the device llama.cpp really took). */
async function startEngine(models: CatalogModel[], gpu: Device): Promise<{ engine: LlamaEngine; loaded: Array<Record<string, unknown>> }> {
  const loaded: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry["msg"] === "model ready") loaded.push(entry);
        else if (entry["level"] === "error" || entry["level"] === "fatal") console.log(`  host: ${line}`);
      }
      callback();
    },
  });
  const engine = new LlamaEngine({
    models, threads: THREADS, gpu, contextSize: 1024, maxQueue: 16, queueTimeoutMs: 120_000,
    maxAdapterContexts: 1, logger: createLogger({ level: "info", destination }),
  });
  await engine.start();
  return { engine, loaded };
}

async function functionalChecks(): Promise<void> {
  console.log(`\nAtomic's inference path on ${TARGET}, generated models`);
  const model = generatedModel("gen", {}, 2);
  const { engine, loaded } = await startEngine([model], TARGET);
  try {
    const host = loaded.find((entry) => entry["model"] === "gen") ?? loaded[0];
    const expected = TARGET === "cpu" ? false : TARGET;
    const onDevice = host !== undefined && (TARGET === "auto" || host["gpu"] === expected);
    report("loads on the device asked for", onDevice, host === undefined
      ? `the model did not load: ${engine.status("gen")?.reason ?? "no reason given"}`
      : `the host reported gpu ${JSON.stringify(host["gpu"])}, ${String(host["gpuLayers"])} layers offloaded`);
    if (!onDevice) return;

    const prompt = "The weather today is";
    const whole = await engine.generate("gen", { kind: "completion", prompt }, { maxTokens: 16, temperature: 0 });
    report("generates exactly max_tokens", whole.completionTokens === 16 && whole.finishReason === "length",
      `${whole.completionTokens} tokens, finish ${whole.finishReason}`);

    const chunks: string[] = [];
    const streamed = await engine.generate("gen", { kind: "completion", prompt }, { maxTokens: 16, temperature: 0 }, { onText: (chunk) => chunks.push(chunk) });
    report("streams what it answers whole, the same at temperature 0", chunks.join("") === streamed.text && streamed.text === whole.text,
      `${JSON.stringify(whole.text)} / ${JSON.stringify(chunks.join(""))}`);

    const concurrent = await Promise.all([0, 1].map(() => engine.generate("gen", { kind: "chat", messages: [{ role: "user", content: "hello" }] }, { maxTokens: 12, temperature: 0.8, seed: 7 })));
    report("serves two sequences at once", concurrent.every((r) => r.completionTokens === 12), concurrent.map((r) => r.completionTokens).join(" and ") + " tokens");

    const schema = { type: "object", properties: { name: { type: "string", maxLength: 8 }, count: { type: "integer", minimum: 0, maximum: 99 } }, required: ["name", "count"], additionalProperties: false };
    const { grammar, maxOutputChars } = compileJsonSchemaToGbnf(schema);
    const structured = await engine.generate("gen", { kind: "chat", messages: [{ role: "user", content: "a name and a count" }] }, { maxTokens: maxOutputChars, temperature: 0.8, seed: 3, grammar });
    let valid = false;
    try {
      valid = new Ajv().validate(schema, JSON.parse(structured.text));
    } catch {
      valid = false;
    }
    report("keeps to a JSON schema's grammar", valid, structured.text);

    const adapterBytes = tokenAdapter(asciiToken("Z"), 8);
    const adapterPath = join(folder, "z.gguf");
    writeFileSync(adapterPath, adapterBytes);
    const adapter = { id: "z", path: adapterPath, sha256: createHash("sha256").update(adapterBytes).digest("hex"), scale: 1 };
    const adapted = await engine.generate("gen", { kind: "completion", prompt }, { maxTokens: 6, temperature: 0, adapter });
    report("applies a LoRA adapter in the known way", adapted.text === "ZZZZZZ" && whole.text.slice(0, 6) !== "ZZZZZZ", JSON.stringify(adapted.text));

    const { vectors } = await engine.embed("gen", ["a short text", "a short text", "another one entirely"]);
    const norms = vectors.map((v) => Math.hypot(...v));
    const same = vectors[0]!.every((x, i) => Math.abs(x - vectors[1]![i]!) < 1e-5);
    report("embeds in unit-length vectors, the same text alike", norms.every((n) => Math.abs(n - 1) < 1e-3) && same,
      `norms ${norms.map((n) => n.toFixed(4)).join(", ")}`);
  } finally {
    await engine.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Generation and prompt tokens per second on one device, for the 512×8 model. */
async function throughput(gpu: Device): Promise<{ generation: number; prompt: number; gpu: unknown }> {
  const model = generatedModel("m512x8", THROUGHPUT_MODEL, 1);
  const { engine, loaded } = await startEngine([model], gpu);
  try {
    const rounds = flags.quick ? 1 : 3;
    await engine.generate(model.id, { kind: "completion", prompt: "warm up" }, { maxTokens: 8, temperature: 0 });
    const generation: number[] = [];
    const prompt: number[] = [];
    // Generated models print ASCII, a token a character or so: a 600-character prompt is a few hundred tokens.
    const longPrompt = "lorem ipsum dolor sit amet ".repeat(flags.quick ? 4 : 24);
    for (let round = 0; round < rounds; round++) {
      const generated = await engine.generate(model.id, { kind: "completion", prompt: "Once" }, { maxTokens: TOKENS, temperature: 0 });
      generation.push(generated.completionTokens / (generated.inferenceMs / 1000));
      const read = await engine.generate(model.id, { kind: "completion", prompt: longPrompt }, { maxTokens: 1, temperature: 0 });
      prompt.push(read.promptTokens / (read.inferenceMs / 1000));
    }
    return { generation: median(generation), prompt: median(prompt), gpu: loaded[0]?.["gpu"] };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${availableParallelism()} CPU threads (${THREADS} per model host); target ${TARGET}${COMPARE ? `, compared with ${COMPARE}` : ""}`);
  try {
    await functionalChecks();
    // Figures from a device that failed its checks would mean nothing.
    if (failures === 0) await throughputTable();
  } catch (error) {
    report("runs to the end", false, error instanceof Error ? error.message : String(error));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  console.log(failures === 0 ? "\nall checks passed" : `\n${failures} check(s) failed`);
  process.exitCode = failures === 0 ? 0 : 1;
}

async function throughputTable(): Promise<void> {
  console.log(`\ntokens/s, generated ${THROUGHPUT_MODEL.embeddingLength}x${THROUGHPUT_MODEL.layers} model, ${TOKENS} tokens generated, median of ${flags.quick ? 1 : 3}`);
  const rows: Array<[Device, Awaited<ReturnType<typeof throughput>>]> = [];
  for (const gpu of COMPARE === undefined ? [TARGET] : [COMPARE, TARGET]) rows.push([gpu, await throughput(gpu)]);
  for (const [gpu, row] of rows) {
    console.log(`  ${gpu.padEnd(6)} (llama.cpp gpu: ${JSON.stringify(row.gpu)})  generation ${row.generation.toFixed(1)} tokens/s   prompt ${row.prompt.toFixed(1)} tokens/s`);
  }
  if (rows.length === 2) {
    const [base, target] = [rows[0]![1], rows[1]![1]];
    console.log(`  ${TARGET} ÷ ${COMPARE}: generation ×${(target.generation / base.generation).toFixed(2)}, prompt ×${(target.prompt / base.prompt).toFixed(2)}`);
  }
}

await main();
