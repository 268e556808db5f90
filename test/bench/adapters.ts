/**
 * LoRA adapters, measured: `npx tsx test/bench/adapters.ts` (SmolLM2 135M Instruct from the installed family;
 * BENCH_ADAPTERS_MODEL=generated for the random-weight test model, as the smoke run does).
 *
 *   1. switch cost      a context with an adapter: creation time and memory (what inference.maxAdapterContexts
 *                       bounds), and a request's latency when its adapter is not resident against when it is
 *   2. fitting          per rated-example count: forward passes (hidden states) and the fit itself, held-back
 *                       (canary) accuracy of the base model and of the candidate
 *   3. accuracy lift    the fitted adapters served by the model host on held-out seeds (101, 102: held-out
 *                       templates and words), constrained to the labels by a grammar as an enum schema would be;
 *                       and free text
 *   4. 1,000 examples   the fit's time alone at 1,000 examples (BENCH_ADAPTERS_THOUSAND=1: ~6 min of forward passes
 *                       on SmolLM2 first)
 *
 * Fitted on tune seeds 1, 2, … (tune templates and words only), measured on holdout seeds; printed, never asserted.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { fitAdapter, type FitAdapterResult } from "../../src/adaptation/adapters/fit/fit-adapter.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import type { GenerationInput, GenerationParams } from "../../src/inference/interface.js";
import type { CatalogModel } from "../../src/models/catalog.js";
import { encodeLoraAdapter } from "../../src/models/adapters/lora-gguf.js";
import { metadataNumber, readGgufHeader } from "../../src/models/gguf/reader.js";
import { loadManifest, modelFilePath } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { createLogger } from "../../src/observability/logger.js";
import { generateEvalItems, type EvalItem } from "../eval/tasks/index.js";
import { percentile, round } from "./stats.js";

const SMOKE = process.env.BENCH_ADAPTERS_MODEL === "generated";
const COUNTS = (process.env.BENCH_ADAPTERS_COUNTS ?? (SMOKE ? "25" : "25,50,100,200")).split(",").map(Number);
const KINDS = (process.env.BENCH_ADAPTERS_KINDS ?? (SMOKE ? "sentiment" : "topic,sentiment")).split(",") as Array<"topic" | "sentiment">;
const HOLDOUT_PER_SEED = Number(process.env.BENCH_ADAPTERS_HOLDOUT ?? (SMOKE ? 5 : 50));
const LABELS = { topic: ["sports", "business", "science", "health", "politics"], sentiment: ["positive", "negative"] };
const CONTEXT_SIZE = 4096;
const SEQUENCES = 2;
const work = mkdtempSync(join(tmpdir(), "atomic-bench-adapters-"));

function servedModel(): CatalogModel {
  if (SMOKE) {
    const bytes = buildTestModel({ seed: 1 });
    const path = join(work, "generated.gguf");
    writeFileSync(path, bytes);
    return {
      id: "atomic-test-random", file: path, path, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, contextLength: 4096,
      capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 0, per1kCompletionTokens: 0 }, parallel: SEQUENCES, testModel: true,
    };
  }
  const manifest = resolve(process.env.ATOMIC_MODELS_HOME ?? ".tools/models", "manifest.json");
  const entry = loadManifest(manifest).models.find((m) => m.id === "smollm2-135m-instruct");
  if (!entry) throw new Error(`SmolLM2 is not installed at ${manifest} (npm run models:install)`);
  return { ...entry, path: modelFilePath(manifest, entry), parallel: SEQUENCES, testModel: false };
}

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
const input = (item: EvalItem): GenerationInput => ({ kind: "chat", messages: item.messages });

async function switchCost(model: CatalogModel): Promise<void> {
  console.log(`\n1. adapter switch cost (${model.id}, contexts of ${SEQUENCES} sequences × ${CONTEXT_SIZE} tokens, as a model host makes them)`);
  const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
  const loaded = await llama.loadModel({ modelPath: model.path });
  const header = readGgufHeader(model.path);
  const layer = metadataNumber(header, "llama.block_count")! - 1;
  const [feedForward, embedding] = header.tensors.find((t) => t.name === `blk.${layer}.ffn_down.weight`)!.dims;
  const adapter = (i: number) => {
    const path = join(work, `switch-${i}.gguf`);
    writeFileSync(path, encodeLoraAdapter({ architecture: "llama", alpha: 5, pairs: [{ target: `blk.${layer}.ffn_down.weight`, rank: 5, inputs: feedForward!, outputs: embedding!, a: new Float32Array(5 * feedForward!).fill(1e-4 * i), b: new Float32Array(embedding! * 5).fill(1e-3) }] }));
    return path;
  };
  let before = rssMb();
  let started = performance.now();
  const base = await loaded.createContext({ sequences: SEQUENCES, contextSize: CONTEXT_SIZE, threads: 1 });
  console.log(`   base context:    ${round(performance.now() - started, 0)} ms, +${round(rssMb() - before, 0)} MB resident`);
  const create: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < 5; i++) {
    before = rssMb();
    started = performance.now();
    const context = await loaded.createContext({ sequences: SEQUENCES, contextSize: CONTEXT_SIZE, threads: 1, lora: { adapters: [{ filePath: adapter(i), scale: 1 }] } });
    create.push(performance.now() - started);
    memory.push(rssMb() - before);
    await context.dispose();
  }
  console.log(`   adapter context: ${round(percentile(create, 50), 0)} ms to create (median of 5, a new rank-5 adapter each), +${round(percentile(memory, 50), 0)} MB resident until freed`);
  await base.dispose();
  await llama.dispose();
}

async function servedLatency(engine: LlamaEngine, model: CatalogModel, items: EvalItem[], adapters: NonNullable<GenerationParams["adapter"]>[]): Promise<void> {
  const item = items[0]!;
  const ask = async (adapter?: NonNullable<GenerationParams["adapter"]>) => {
    const started = performance.now();
    await engine.generate(model.id, input(item), { maxTokens: 1, temperature: 0, ...(adapter ? { adapter } : {}) });
    return performance.now() - started;
  };
  await ask();
  const resident: number[] = [];
  const switching: number[] = [];
  for (const adapter of adapters) {
    // maxAdapterContexts 1: every change of adapter replaces the context; the second request finds it resident.
    switching.push(await ask(adapter));
    resident.push(await ask(adapter));
  }
  console.log(`   through the model host (maxAdapterContexts 1, one-token answers): a request whose adapter is not resident ${round(percentile(switching, 50), 0)} ms, resident ${round(percentile(resident, 50), 0)} ms (medians of ${adapters.length}; the first use of an adapter also hashes its file)`);
}

function grammarOf(labels: string[]): string {
  return `root ::= ${labels.map((l) => JSON.stringify(l)).join(" | ")}`;
}

async function accuracy(engine: LlamaEngine, model: CatalogModel, items: EvalItem[], labels: string[], adapter: GenerationParams["adapter"] | null): Promise<{ grammar: number; free: number }> {
  let grammar = 0;
  let free = 0;
  for (const item of items) {
    const common = { temperature: 0, ...(adapter ? { adapter } : {}) };
    const constrained = await engine.generate(model.id, input(item), { maxTokens: 8, grammar: grammarOf(labels), ...common });
    if (constrained.text === item.expected) grammar++;
    const open = await engine.generate(model.id, input(item), { maxTokens: item.maxTokens, ...common });
    if (item.check(open.text).correct) free++;
  }
  return { grammar: grammar / items.length, free: free / items.length };
}

async function main(): Promise<void> {
  const model = servedModel();
  console.log(`atomic bench: adapters — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, 1 llama.cpp thread, node ${process.version}, model ${model.id}`);
  await switchCost(model);
  const engine = new LlamaEngine({ models: [model], threads: 1, gpu: "cpu", contextSize: CONTEXT_SIZE, maxQueue: 64, queueTimeoutMs: 600_000, maxAdapterContexts: 1, logger: createLogger({ level: "warn" }) });
  await engine.start();
  try {
    const fitted: FitAdapterResult[] = [];
    for (const kind of KINDS) {
      const labels = LABELS[kind];
      const holdout = generateEvalItems({ seeds: [101, 102], perKind: HOLDOUT_PER_SEED, kinds: [kind] });
      const largest = Math.max(...COUNTS);
      const tune = generateEvalItems({ seeds: Array.from({ length: Math.ceil(largest / 50) }, (_, i) => i + 1), perKind: 50, kinds: [kind] });
      console.log(`\n2. fitting — ${kind} (${labels.length} labels), tune seeds 1–${Math.ceil(largest / 50)}`);
      console.log(`   ${"examples".padEnd(9)} ${"forward passes".padStart(15)} ${"fit".padStart(8)} ${"held back".padStart(10)} ${"canary: base → candidate".padStart(26)}`);
      const results: Array<{ count: number; result: FitAdapterResult; adapter: NonNullable<GenerationParams["adapter"]> }> = [];
      for (const count of COUNTS) {
        const output = join(work, `${kind}-${count}.gguf`);
        const result = await fitAdapter({
          baseModel: model,
          labels,
          examples: tune.slice(0, count).map((item) => ({ input: input(item), label: item.expected as string })),
          output,
          contextSize: 1024,
        });
        fitted.push(result);
        results.push({ count, result, adapter: { id: `${kind}-${count}`, path: output, sha256: result.sha256, scale: 1 } });
        const pct = (x: number) => `${round(x * 100, 0)} %`;
        console.log(`   ${String(count).padEnd(9)} ${`${round(result.timings.featuresMs / 1000, 1)} s`.padStart(15)} ${`${round(result.timings.fitMs, 0)} ms`.padStart(8)} ${String(result.counts.heldBack).padStart(10)} ${`${pct(result.accuracy.base)} → ${pct(result.accuracy.candidate)}`.padStart(26)}`);
      }
      console.log(`\n3. accuracy lift — ${kind}, ${holdout.length} held-out items (seeds 101, 102), served by the model host`);
      const base = await accuracy(engine, model, holdout, labels, null);
      console.log(`   ${"adapter".padEnd(22)} ${"labels (grammar)".padStart(17)} ${"free text".padStart(10)}`);
      console.log(`   ${"none (base model)".padEnd(22)} ${`${round(base.grammar * 100, 1)} %`.padStart(17)} ${`${round(base.free * 100, 1)} %`.padStart(10)}`);
      for (const { count, adapter } of results) {
        const adapted = await accuracy(engine, model, holdout, labels, adapter);
        console.log(`   ${`fitted on ${count}`.padEnd(22)} ${`${round(adapted.grammar * 100, 1)} %`.padStart(17)} ${`${round(adapted.free * 100, 1)} %`.padStart(10)}`);
      }
      if (kind === KINDS[0]) {
        console.log("");
        await servedLatency(engine, model, holdout, results.map((r) => r.adapter));
      }
    }
    console.log(`\n4. the fit alone (forward passes excluded): ${fitted.map((r) => `${r.counts.fitted} examples ${round(r.timings.fitMs, 0)} ms`).join(", ")}`);
    if (process.env.BENCH_ADAPTERS_THOUSAND === "1") {
      const kind = KINDS[0]!;
      const items = generateEvalItems({ seeds: Array.from({ length: 20 }, (_, i) => i + 1), perKind: 50, kinds: [kind] });
      const result = await fitAdapter({ baseModel: model, labels: LABELS[kind], examples: items.map((item) => ({ input: input(item), label: item.expected as string })), output: join(work, "thousand.gguf"), contextSize: 1024, heldBackShare: 0.001 });
      console.log(`   ${result.counts.fitted} examples (${kind}): fit ${round(result.timings.fitMs, 0)} ms; forward passes ${round(result.timings.featuresMs / 1000, 1)} s (${round(result.timings.featuresMs / items.length, 0)} ms per example, both models)`);
    }
  } finally {
    await engine.close();
  }
}

await main();
