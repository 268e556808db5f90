import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getLlama, LlamaGrammarEvaluationState, LlamaLogLevel, type Llama, type LlamaContextSequence, type LlamaGrammar, type LlamaModel, type Token } from "node-llama-cpp";
import { encodeLoraAdapter } from "../../../models/adapters/lora-gguf.js";
import { sha256OfDescriptor } from "../../../models/digest.js";
import { readGgufHeaderFromFd } from "../../../models/gguf/reader.js";
import type { GenerationInput } from "../../../inference/interface.js";
import { chatWrapperFor, promptTokens } from "../../../inference/llama/chat-prompt.js";
import { LoadRefusal, openVerifiedModelFile, refuseIfChangedSince } from "../../../inference/llama/model-file.js";
import { adapterDelta } from "./adapter-delta.js";
import type { AnswerPrefix } from "./answer-prefix.js";
import { HiddenStates } from "./hidden-states.js";
import { exampleGeometry, labelGeometry, labelLogits, labelLogitsForDelta, type ExampleGeometry, type LabelGeometry } from "./label-geometry.js";
import { feedForwardActivation, finalResidual, toFeatureModel, readLastBlock, readOutputRows, type LastBlock } from "./last-block.js";
import { DEFAULT_PROBE_OPTIONS, fitProbe, probeOutput, type Probe, type ProbeOptions } from "./probe.js";

/** One fit, as the fitting process receives it. */
export interface FitJob {
  base: { id: string; path: string; sha256: string };
  labels: string[];
  /**
   * Each example's input as a request would carry it, and the index of its correct label. `prefix`: the label is a
   * field of a structured answer, and this is the answer up to where the field's value begins (answer-prefix.ts);
   * the model writes it, greedily, under that grammar, and the hidden state is read after it.
   */
  examples: Array<{ input: GenerationInput; label: number; prefix?: AnswerPrefix }>;
  /** Indexes of the examples kept out of the fit, to compare the candidate with the current adapter and the base. */
  heldBack: number[];
  /** The adapter now promoted for this task class, if any. */
  current: { id: string; path: string; sha256: string; scale: number } | null;
  /** Where to write the candidate adapter. */
  output: string;
  threads: number;
  /** Context window of the forward passes: the longest prompt must fit. */
  contextSize: number;
  probe?: Partial<ProbeOptions>;
}

export interface FitJobResult {
  sha256: string;
  sizeBytes: number;
  /** The tensor the adapter adapts, and its rank (one per label). */
  target: string;
  rank: number;
  counts: { examples: number; fitted: number; heldBack: number };
  /** Share of held-back examples whose label gets the highest logit among the labels' first tokens. */
  accuracy: { base: number; current: number | null; candidate: number };
  /** Why the current adapter could not be compared (then the candidate is not promoted automatically). */
  currentNotComparable?: string;
  /** Relative residual of the last-step reconstruction, worst over examples (≈1 % expected; see last-block.ts). */
  worstMismatch: number;
  timings: { featuresMs: number; fitMs: number; totalMs: number };
}

/** A fit refused for a reason an operator can act on (unsupported model, tampered file, too few examples). */
export class FitRefusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Beyond this reconstruction error the JavaScript model of the last step does not describe what llama.cpp ran. */
const MAX_MISMATCH = 0.1;

interface Features {
  u: Float32Array;
  x: Float64Array;
  geometry: ExampleGeometry;
}

export async function runFitJob(job: FitJob): Promise<FitJobResult> {
  const started = performance.now();
  const base = await asFitRefusal(() => openVerifiedModelFile(job.base.path, job.base.sha256));
  const { fd, header } = base;
  const scratch = mkdtempSync(join(tmpdir(), "atomic-fit-"));
  let llama: Llama | undefined;
  try {
    const block = readLastBlock(fd, header);
    llama = await getLlama({ build: "never", gpu: false, maxThreads: job.threads, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
    // Read, not mapped, as model hosts load (models.mmap aside): the fit works on the bytes that were hashed.
    const model = await llama.loadModel({ modelPath: descriptorPath(fd, job.base.path), useMmap: false });
    const labelTokens = firstTokens(model, job.labels);
    const geometry = labelGeometry(readOutputRows(fd, header, labelTokens), block.outputNorm, job.labels.length, block.epsilon);

    const featureStarted = performance.now();
    const featurePath = join(scratch, "feature.gguf");
    writeFileSync(featurePath, toFeatureModel(readWhole(fd), header, block), { mode: 0o600 });
    const featureFd = openSync(featurePath, "r");
    const featureModel = await llama.loadModel({ modelPath: descriptorPath(featureFd, featurePath) });
    const wrapper = chatWrapperFor(model);
    const prompts = await withAnswerPrefixes(llama, model, job, job.examples.map((example) => promptTokens(model, wrapper, example.input)));
    const { features, worstMismatch } = await extract(model, featureModel, block, geometry, prompts, job);
    await featureModel.dispose();
    closeSync(featureFd);
    // The base is read no more: written into since its hash, what was read is not the pinned model, whatever the
    // checks below would make of it, and no adapter is written.
    await asFitRefusal(async () => refuseIfChangedSince(base, job.base.path));
    if (worstMismatch > MAX_MISMATCH) {
      throw new FitRefusal("fit_model_mismatch", `the last step reconstructed from llama.cpp's states is off by ${(worstMismatch * 100).toFixed(1)} %; this model's last block is not what fitting assumes`);
    }
    const featuresMs = performance.now() - featureStarted;

    const fitStarted = performance.now();
    const held = new Set(job.heldBack);
    const fitted = job.examples.flatMap((example, i) => (held.has(i) ? [] : [{ u: features[i]!.u, geometry: features[i]!.geometry, label: example.label }]));
    const probe = fitProbe(geometry, fitted, { ...DEFAULT_PROBE_OPTIONS, ...job.probe });
    const fitMs = performance.now() - fitStarted;

    const heldBack = job.heldBack.map((i) => ({ features: features[i]!, label: job.examples[i]!.label }));
    const current = job.current ? await currentAccuracy(job.current, block, geometry, heldBack) : null;
    const bytes = adapterBytes(job, block, geometry, probe);
    writeFileSync(job.output, bytes, { mode: 0o444 });
    await model.dispose();
    return {
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sizeBytes: bytes.length,
      target: block.target,
      rank: job.labels.length,
      counts: { examples: job.examples.length, fitted: fitted.length, heldBack: heldBack.length },
      accuracy: {
        base: accuracy(heldBack, baseLogits(geometry), geometry),
        current: current?.accuracy ?? null,
        candidate: accuracy(heldBack, candidateLogits(geometry, probe), geometry),
      },
      ...(current?.reason === undefined ? {} : { currentNotComparable: current.reason }),
      worstMismatch,
      timings: { featuresMs, fitMs, totalMs: performance.now() - started },
    };
  } finally {
    closeSync(fd);
    rmSync(scratch, { recursive: true, force: true });
    await llama?.dispose();
  }
}

/**
 * The probe as a LoRA pair on the last ffn_down: A is the probe (one row per label, over the activation u), B the
 * label directions V (label-geometry.ts). alpha = rank makes llama.cpp's factor alpha / rank 1, so the manifest's
 * scale is the adapter's whole scale.
 */
function adapterBytes(job: FitJob, block: LastBlock, geometry: LabelGeometry, probe: Probe): Buffer {
  const rank = job.labels.length;
  return encodeLoraAdapter({
    architecture: "llama",
    alpha: rank,
    pairs: [{ target: block.target, rank, inputs: block.feedForwardLength, outputs: block.embeddingLength, a: probe.a, b: Float32Array.from(geometry.v) }],
    metadata: [
      ["general.name", `atomic fitted adapter for ${job.base.id}`],
      ["atomic.fit.base_sha256", job.base.sha256],
      ["atomic.fit.labels", JSON.stringify(job.labels)],
    ],
  });
}

/**
 * Each prompt followed by the beginning of its structured answer where the label is a field of one: the tokens the
 * model writes, greedily, under the answer's prefix grammar — so the hidden state is read where the model host,
 * generating the whole answer under the request's grammar, chooses the label's first token.
 */
async function withAnswerPrefixes(llama: Llama, model: LlamaModel, job: FitJob, prompts: Token[][]): Promise<Token[][]> {
  if (!job.examples.some((example) => example.prefix !== undefined)) return prompts;
  const longest = Math.max(...job.examples.map((example, i) => prompts[i]!.length + (example.prefix?.maxChars ?? 0)));
  if (longest + 1 > job.contextSize) throw new FitRefusal("fit_prompt_too_long", `an example's prompt and answer prefix are up to ${longest} tokens, more than the ${job.contextSize}-token context`);
  const context = await model.createContext({ contextSize: Math.min(job.contextSize, Math.max(256, longest + 1)), threads: job.threads, sequences: 1 });
  const grammars = new Map<string, LlamaGrammar>();
  try {
    const sequence = context.getSequence();
    const out: Token[][] = [];
    for (const [i, example] of job.examples.entries()) {
      const prompt = prompts[i]!;
      if (example.prefix === undefined) {
        out.push(prompt);
        continue;
      }
      let grammar = grammars.get(example.prefix.grammar);
      if (grammar === undefined) grammars.set(example.prefix.grammar, (grammar = await llama.createGrammar({ grammar: example.prefix.grammar })));
      out.push([...prompt, ...(await answerPrefixTokens(sequence, prompt, grammar, example.prefix.maxChars))]);
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/**
 * The tokens a model writes after `prompt`, greedily, until `grammar` is complete (it then allows only the end of
 * the text). The sequence keeps what the previous call evaluated, and re-evaluates only from where this prompt differs.
 */
export async function answerPrefixTokens(sequence: LlamaContextSequence, prompt: readonly Token[], grammar: LlamaGrammar, maxTokens: number): Promise<Token[]> {
  const held = sequence.contextTokens;
  let shared = 0;
  while (shared < prompt.length - 1 && shared < held.length && prompt[shared] === held[shared]) shared++;
  await sequence.eraseContextTokenRanges([{ start: shared, end: sequence.nextTokenIndex }]);
  const state = new LlamaGrammarEvaluationState({ model: sequence.model, grammar });
  const generated: Token[] = [];
  let complete = false;
  const evaluation = sequence.evaluate(prompt.slice(shared) as Token[], { temperature: 0, grammarEvaluationState: state });
  for (;;) {
    const next = await evaluation.next();
    // The grammar allows nothing but the end of the text once the prefix is written: the model ends it.
    if (next.done === true) {
      complete = true;
      break;
    }
    generated.push(next.value);
    if (generated.length > maxTokens) break;
  }
  await evaluation.return(undefined);
  if (!complete) throw new FitRefusal("fit_prefix_unfinished", `the model wrote ${generated.length} tokens without finishing an answer's prefix (${JSON.stringify(sequence.model.detokenize(generated).slice(0, 80))})`);
  return generated;
}

/** Hidden states of every prompt from both models, in an order that lets consecutive prompts share evaluation. */
async function extract(model: LlamaModel, featureModel: LlamaModel, block: LastBlock, geometry: LabelGeometry, prompts: Token[][], job: FitJob): Promise<{ features: Features[]; worstMismatch: number }> {
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest + 1 > job.contextSize) throw new FitRefusal("fit_prompt_too_long", `an example's prompt is ${longest} tokens, more than the ${job.contextSize}-token context`);
  const contextSize = Math.min(job.contextSize, Math.max(256, longest + 1));
  const [final, ffnInput] = await Promise.all([
    HiddenStates.open(model, { contextSize, threads: job.threads }),
    HiddenStates.open(featureModel, { contextSize, threads: job.threads }),
  ]);
  try {
    const order = prompts.map((_, i) => i).sort((x, y) => compareTokens(prompts[x]!, prompts[y]!));
    const features: Features[] = new Array(prompts.length);
    let worstMismatch = 0;
    for (const i of order) {
      const [finalNormed, ffnIn] = await Promise.all([final.of(prompts[i]!), ffnInput.of(prompts[i]!)]);
      const u = feedForwardActivation(block, ffnIn);
      const { x, mismatch } = finalResidual(block, finalNormed, ffnIn, u);
      worstMismatch = Math.max(worstMismatch, mismatch);
      features[i] = { u, x, geometry: exampleGeometry(geometry, x) };
    }
    return { features, worstMismatch };
  } finally {
    await Promise.all([final.close(), ffnInput.close()]);
  }
}

async function currentAccuracy(current: NonNullable<FitJob["current"]>, block: LastBlock, geometry: LabelGeometry, heldBack: HeldBack[]): Promise<{ accuracy: number | null; reason?: string }> {
  const fd = await openVerifiedAdapter(current.path, current.sha256);
  try {
    const delta = adapterDelta(fd, readGgufHeaderFromFd(fd), block, current.scale);
    if (!delta.comparable) return { accuracy: null, reason: `the current adapter ${current.id}: ${delta.reason}` };
    const d = new Float64Array(block.embeddingLength);
    return { accuracy: accuracy(heldBack, (f, out) => { delta.apply(f.u, d); labelLogitsForDelta(geometry, f.x, d, out); }, geometry) };
  } finally {
    closeSync(fd);
  }
}

interface HeldBack {
  features: Features;
  label: number;
}

function accuracy(heldBack: HeldBack[], logits: (features: Features, out: Float64Array) => void, geometry: LabelGeometry): number {
  if (heldBack.length === 0) return 0;
  const z = new Float64Array(geometry.labels);
  let correct = 0;
  for (const { features, label } of heldBack) {
    logits(features, z);
    let best = 0;
    for (let c = 1; c < z.length; c++) if (z[c]! > z[best]!) best = c;
    if (best === label) correct++;
  }
  return correct / heldBack.length;
}

function candidateLogits(geometry: LabelGeometry, probe: Probe): (features: Features, out: Float64Array) => void {
  const a = new Float64Array(geometry.labels);
  return (features, out) => {
    probeOutput(probe, features.u, a);
    labelLogits(geometry, features.geometry, a, out);
  };
}

function baseLogits(geometry: LabelGeometry): (features: Features, out: Float64Array) => void {
  const none = new Float64Array(geometry.labels);
  return (features, out) => labelLogits(geometry, features.geometry, none, out);
}

/**
 * Each label's first token as the model writes it at the start of an answer (without the word-start space a
 * SentencePiece vocabulary would put first); two labels may not share one.
 */
function firstTokens(model: LlamaModel, labels: string[]): number[] {
  const tokens = labels.map((label) => model.tokenize(label, false, "trimLeadingSpace")[0]);
  labels.forEach((label, i) => {
    if (tokens[i] === undefined) throw new FitRefusal("fit_labels_invalid", `label ${JSON.stringify(label)} has no tokens`);
    const other = tokens.indexOf(tokens[i]);
    if (other !== i) throw new FitRefusal("fit_labels_invalid", `labels ${JSON.stringify(labels[other])} and ${JSON.stringify(label)} begin with the same token (${JSON.stringify(model.detokenize([tokens[i]!]))}); fitting needs distinct first tokens`);
  });
  return tokens as number[];
}

function compareTokens(x: readonly Token[], y: readonly Token[]): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A base model file the host would refuse, refused for the fit with the same code (model_digest_mismatch, …). */
async function asFitRefusal<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof LoadRefusal) throw new FitRefusal(error.code, error.message);
    throw error;
  }
}

/** Opens an adapter file and checks its SHA-256 on the descriptor that is then read, as model hosts do. */
async function openVerifiedAdapter(path: string, sha256: string): Promise<number> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new FitRefusal("adapter_file_missing", `cannot open ${path}: ${(error as Error).message}`);
  }
  const digest = await sha256OfDescriptor(fd);
  if (digest !== sha256) {
    closeSync(fd);
    throw new FitRefusal("adapter_digest_mismatch", `SHA-256 of ${path} is ${digest}, the manifest pins ${sha256}`);
  }
  return fd;
}

function descriptorPath(fd: number, path: string): string {
  return process.platform === "linux" ? `/proc/self/fd/${fd}` : path;
}

function readWhole(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const bytes = Buffer.alloc(size);
  let done = 0;
  while (done < size) done += readSync(fd, bytes, done, size - done, done);
  return bytes;
}
