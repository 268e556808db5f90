import { fork } from "node:child_process";
import type { GenerationInput } from "../../../inference/interface.js";
import { seededRng } from "../../../util/rng.js";
import { childProcessEntry } from "../../../util/sibling-entry.js";
import type { AnswerPrefix } from "./answer-prefix.js";
import type { FitJob, FitJobResult } from "./fit-job.js";
import type { FitProcessReply } from "./fit-process.js";
import type { ProbeOptions } from "./probe.js";

/**
 * Fits a LoRA adapter for a label-like task class from rated examples (input → correct label), in a process of its
 * own (fit-process.ts), and says whether it beats what serves the class now on a held-back slice of the examples.
 * It only writes the adapter file: pinning and promotion are the caller's (fit-service.ts).
 *
 * What is fitted: a linear probe on the base model's last feed-forward activation at the answer position, written
 * as a rank-K LoRA pair (K labels) on the last block's ffn_down whose output moves the final residual along the
 * directions that raise exactly one label's first token (see last-block.ts, label-geometry.ts, probe.ts).
 */

export interface FitAdapterOptions {
  baseModel: { id: string; path: string; sha256: string };
  labels: string[];
  /** `prefix`: the label is a field of a structured answer that begins so (FitJob). */
  examples: Array<{ input: GenerationInput; label: string; prefix?: AnswerPrefix }>;
  /** The adapter promoted for this task class now; null or absent: the base model serves it. */
  current?: FitJob["current"];
  /** Where to write the candidate adapter file. */
  output: string;
  /** llama.cpp threads for the forward passes (default 1). */
  threads?: number;
  /** Context window of the forward passes (default 2048). */
  contextSize?: number;
  /** Share of each label's examples held back for the canary (default 0.2, at least one per label). */
  heldBackShare?: number;
  /** Seeds the choice of the held-back examples and the fit's batches (default 1). */
  seed?: number;
  probe?: Partial<ProbeOptions>;
  /** Gives up on a fit that runs longer (default 30 minutes). */
  timeoutMs?: number;
}

export interface FitAdapterResult extends FitJobResult {
  file: string;
  labels: string[];
  /** True when the candidate is strictly more accurate on the held-back slice than the current adapter (or the base). */
  beats: boolean;
  /** What the candidate was compared with. */
  comparedWith: "current" | "base";
}

export class FitError extends Error {
  override readonly name = "FitError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Each label needs examples to fit on and at least one to hold back. */
const MIN_EXAMPLES_PER_LABEL = 3;

/** Refuses (FitError) labels and examples that cannot be fitted, before any work is done. */
export function checkFitExamples(labels: readonly string[], examples: ReadonlyArray<{ label: string }>): void {
  if (labels.length < 2 || new Set(labels).size !== labels.length) throw new FitError("fit_labels_invalid", "fitting needs at least two distinct labels");
  const unknown = examples.find((e) => !labels.includes(e.label));
  if (unknown) throw new FitError("fit_labels_invalid", `an example is labelled ${JSON.stringify(unknown.label)}, which is not one of ${labels.join(", ")}`);
  const short = labels.filter((label) => examples.filter((e) => e.label === label).length < MIN_EXAMPLES_PER_LABEL);
  if (short.length > 0) throw new FitError("fit_too_few_examples", `every label needs at least ${MIN_EXAMPLES_PER_LABEL} rated examples; too few for ${short.join(", ")}`);
}

export async function fitAdapter(options: FitAdapterOptions): Promise<FitAdapterResult> {
  const labels = [...options.labels];
  checkFitExamples(labels, options.examples);

  const job: FitJob = {
    base: options.baseModel,
    labels,
    examples: options.examples.map((e) => ({ input: e.input, label: labels.indexOf(e.label), ...(e.prefix === undefined ? {} : { prefix: e.prefix }) })),
    heldBack: heldBackIndexes(options.examples.map((e) => labels.indexOf(e.label)), labels.length, options.heldBackShare ?? 0.2, options.seed ?? 1),
    current: options.current ?? null,
    output: options.output,
    threads: options.threads ?? 1,
    contextSize: options.contextSize ?? 2048,
    probe: { seed: options.seed ?? 1, ...options.probe },
  };
  const result = await runInProcess(job, options.timeoutMs ?? 30 * 60_000);
  const comparedWith = options.current ? "current" : "base";
  const reference = options.current ? result.accuracy.current : result.accuracy.base;
  return { ...result, file: options.output, labels, comparedWith, beats: reference !== null && result.accuracy.candidate > reference };
}

/**
 * Per label, a seeded choice of `share` of its examples (at least one, never all but one), so that every label is
 * in the canary and in the fit.
 */
export function heldBackIndexes(labelOf: readonly number[], labels: number, share: number, seed: number): number[] {
  const random = seededRng(seed);
  const held: number[] = [];
  for (let label = 0; label < labels; label++) {
    const mine = labelOf.flatMap((l, i) => (l === label ? [i] : []));
    for (let i = mine.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [mine[i], mine[j]] = [mine[j]!, mine[i]!];
    }
    const count = Math.min(mine.length - 2, Math.max(1, Math.round(mine.length * share)));
    held.push(...mine.slice(0, count));
  }
  return held.sort((a, b) => a - b);
}

function runInProcess(job: FitJob, timeoutMs: number): Promise<FitJobResult> {
  const { path, execArgv } = childProcessEntry(import.meta.url, "fit-process");
  const child = fork(path, [], { execArgv, serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"], env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" } });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(() => reject(new FitError("fit_timeout", `the fit ran longer than ${Math.round(timeoutMs / 1000)} s`)));
    }, timeoutMs);
    const finish = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      then();
    };
    child.on("message", (reply: FitProcessReply) => {
      finish(() => (reply.type === "fitted" ? resolve(reply.result) : reject(new FitError(reply.code, reply.message))));
    });
    child.on("exit", (code, signal) => {
      finish(() => reject(new FitError("fit_crashed", `the fitting process stopped (${signal ? `signal ${signal}` : `exit code ${code}`})${stderr ? `: ${stderr.trim().split("\n").at(-1)}` : ""}`)));
    });
    child.send(job);
  });
}
