/**
 * `npm run bench:models`: what a token costs on each model of the family on this machine, in compute-seconds (CPU
 * seconds at one llama.cpp thread), the unit of the manifests' cost profiles. Bidding compares models by those
 * profiles, so they must be measured, not guessed: run this on the target hardware and carry the figures into
 * models/family.json (`cost`) or `atomic models add --cost-prompt/--cost-completion`.
 *
 *   prompt       a ~PROMPT_TOKENS-token prompt evaluated with one token generated (prefill)
 *   completion   COMPLETION_TOKENS tokens generated after a short prompt
 *   embedding    EMBED_TEXTS short texts embedded one by one (embedding models)
 *
 * The median of ROUNDS runs each, after a warm-up; printed, never asserted.
 */
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { loadManifest, modelFilePath, type ModelEntry } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { percentile, round } from "./stats.js";

const THREADS = 1;
const ROUNDS = Number(process.env.BENCH_MODELS_ROUNDS ?? 5);
const SMOKE = process.env.BENCH_SMOKE === "1";
// The smoke run (npm test) only has to reach the end: a short prompt and a few tokens per model.
const PROMPT_TOKENS = SMOKE ? 32 : 256;
const COMPLETION_TOKENS = SMOKE ? 8 : 64;
const EMBED_TEXTS = 32;

const PROSE = "The committee met on Tuesday to review the quarterly figures. Sales in the northern region rose while costs stayed flat, "
  + "and the board asked for a plan to extend the pilot to two more hospitals before the end of the year. ";

interface Figures {
  id: string;
  promptSecondsPer1k?: number;
  completionSecondsPer1k?: number;
  embeddingSecondsPer1k?: number;
}

function median(sample: number[]): number {
  return percentile(sample, 50);
}

async function measureGeneration(llama: Llama, entry: ModelEntry, path: string): Promise<Figures> {
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ sequences: 1, contextSize: 2048, threads: THREADS });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  let prompt = PROSE;
  while (model.tokenize(prompt).length < PROMPT_TOKENS) prompt += PROSE;
  const promptTokens = model.tokenize(prompt).length;
  const rounds = SMOKE ? 1 : ROUNDS;
  const prefill: number[] = [];
  const generation: number[] = [];
  await completion.generateCompletion("Hello", { maxTokens: 4, temperature: 0 });
  for (let r = 0; r < rounds; r++) {
    await sequence.clearHistory();
    let started = performance.now();
    await completion.generateCompletion(prompt, { maxTokens: 1, temperature: 0 });
    prefill.push((performance.now() - started) / 1000 / promptTokens);
    await sequence.clearHistory();
    let generated = 0;
    started = performance.now();
    // A fixed count of tokens: the generation may not stop early, or the per-token figure would include less work.
    await completion.generateCompletion("Once upon a time", {
      maxTokens: COMPLETION_TOKENS, temperature: 0.7, seed: r, customStopTriggers: [], onToken: (tokens) => { generated += tokens.length; },
    });
    generation.push((performance.now() - started) / 1000 / Math.max(1, generated));
  }
  completion.dispose();
  await context.dispose();
  await model.dispose();
  return { id: entry.id, promptSecondsPer1k: median(prefill) * 1000 * THREADS, completionSecondsPer1k: median(generation) * 1000 * THREADS };
}

async function measureEmbedding(llama: Llama, entry: ModelEntry, path: string): Promise<Figures> {
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createEmbeddingContext({ contextSize: 512, threads: THREADS });
  const texts = Array.from({ length: SMOKE ? 2 : EMBED_TEXTS }, (_, i) => `${PROSE.slice(0, 60 + i * 3)} (${i})`);
  const tokens = texts.reduce((n, text) => n + model.tokenize(text).length, 0);
  await context.getEmbeddingFor("warm up");
  const sample: number[] = [];
  for (let r = 0; r < (SMOKE ? 1 : ROUNDS); r++) {
    const started = performance.now();
    for (const text of texts) await context.getEmbeddingFor(text);
    sample.push((performance.now() - started) / 1000 / tokens);
  }
  await context.dispose();
  await model.dispose();
  return { id: entry.id, embeddingSecondsPer1k: median(sample) * 1000 * THREADS };
}

async function main(): Promise<void> {
  const familyManifest = resolve(process.env.ATOMIC_MODELS_HOME ?? ".tools/models", "manifest.json");
  const family = loadManifest(familyManifest).models.map((entry) => ({ entry, path: modelFilePath(familyManifest, entry) }));
  if (family.length === 0) console.log(`(no model family at ${familyManifest}: npm run models:install; measuring the generated test model only)`);
  const generated = join(mkdtempSync(join(tmpdir(), "atomic-bench-models-")), "atomic-test-random.gguf");
  writeFileSync(generated, buildTestModel({ seed: 1 }));
  const testEntry: ModelEntry = {
    id: "atomic-test-random", file: generated, sha256: "", sizeBytes: 0, contextLength: 4096, capabilities: ["chat", "completion", "embedding"],
    cost: { unit: "compute-seconds", per1kPromptTokens: 0, per1kCompletionTokens: 0 }, parallel: 1,
  };
  const models = [...family, { entry: testEntry, path: generated }];

  console.log(`atomic bench:models — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, ${THREADS} llama.cpp thread, node ${process.version}`);
  console.log("compute-seconds per 1,000 tokens (median of rounds; the manifest's cost unit):\n");
  console.log(`${"model".padEnd(24)} ${"prompt".padStart(8)} ${"completion".padStart(11)} ${"embedding".padStart(10)}   declared prompt/completion`);
  const llama = await getLlama({ build: "never", gpu: false, maxThreads: THREADS, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
  for (const { entry, path } of models) {
    const figures = entry.capabilities.includes("chat") || entry.capabilities.includes("completion")
      ? await measureGeneration(llama, entry, path)
      : await measureEmbedding(llama, entry, path);
    const cell = (n: number | undefined, width: number) => (n === undefined ? "—" : String(round(n, 2))).padStart(width);
    const declared = entry === testEntry ? "(generated)" : `${entry.cost.per1kPromptTokens} / ${entry.cost.per1kCompletionTokens}`;
    console.log(`${entry.id.padEnd(24)} ${cell(figures.promptSecondsPer1k, 8)} ${cell(figures.completionSecondsPer1k, 11)} ${cell(figures.embeddingSecondsPer1k, 10)}   ${declared}`);
  }
  await llama.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
