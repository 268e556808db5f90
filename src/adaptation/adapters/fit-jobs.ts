import { randomUUID } from "node:crypto";
import type { AuditEvent } from "../../audit/core/entry.js";
import type { GenerationInput } from "../../inference/interface.js";
import { CLASSIFICATIONS, classificationLevel, type Classification } from "../../policy/classification.js";
import type { RatedExample, RatedExamples } from "../exemplars/interface.js";
import { storedMicrotaskInput, storedTaskMessages } from "../../pipeline/task-prompt.js";
import { answerObject, answerPrefixGrammar } from "./fit/answer-prefix.js";
import { checkFitExamples, FitError } from "./fit/fit-adapter.js";
import type { AdapterFitService, FitOutcome } from "./fit-service.js";

/** A fit asked for by a tenant's operator: from that tenant's rated executions of one task class. */
export interface FitFromRatingsRequest {
  tenant: string;
  baseModel: string;
  taskClass: string;
  /** The labels to fit; absent: every label the examples carry (at least two). */
  labels?: string[];
  /**
   * For structured answers: the field of the answer's JSON object that holds the label. Absent: the field the rated
   * executions' adaptation records name (the answer schema's one string-enum property), if any; else the whole answer.
   */
  labelField?: string;
  /** The highest classification of example to fit on; the adapter then serves requests at or above what it used. */
  maxClassification: Classification;
  /** Most recently rated first, at most this many. */
  maxExamples: number;
  actor: AuditEvent["actor"];
}

export type FitJobState =
  | { status: "running" }
  | { status: "succeeded"; outcome: FitOutcome; skipped: number }
  | { status: "failed"; code: string; message: string };

export interface FitJob {
  id: string;
  tenant: string;
  baseModel: string;
  taskClass: string;
  createdAt: string;
  examples: number;
  state: FitJobState;
}

/** Jobs kept for their status, newest last; older finished ones are forgotten (their audit events remain). */
const KEPT_JOBS = 200;

/**
 * Fits that operators start over HTTP, run off the request path: the fit itself runs in a process of its own
 * (fit/fit-adapter.ts), one at a time (AdapterFitService), and a job's status is read back by id. The examples are
 * the tenant's rated executions in their stored (redacted) form — never another tenant's, never above the level the
 * operator allows — and the adapter is pinned for that tenant only.
 */
export class AdapterFitJobs {
  private readonly jobs = new Map<string, FitJob>();

  constructor(
    private readonly service: AdapterFitService,
    private readonly rated: RatedExamples,
    /** Feedback score from which a rated execution's own answer counts as its label (corrected ones always count). */
    private readonly minScore: number,
    /** Told of a fit that failed other than by refusing its examples (a crash, a disk error). */
    private readonly onError: (error: unknown, job: FitJob) => void = () => undefined,
  ) {}

  /** Reads the examples and starts the fit; refuses (FitError) what cannot be fitted before anything runs. */
  async start(request: FitFromRatingsRequest): Promise<FitJob> {
    const level = classificationLevel(request.maxClassification);
    const found = await this.rated.find({
      tenant: request.tenant,
      taskClass: request.taskClass,
      classifications: CLASSIFICATIONS.filter((c) => classificationLevel(c) <= level),
      minScore: this.minScore,
      limit: request.maxExamples,
    });
    const field = request.labelField ?? recordedLabelField(request.taskClass, found);
    const usable = found.map((example) => {
      const input = fitInputOf(example);
      const label = labelOf(example.output, field, request.labels);
      if (input === null || label === null) return null;
      if (field === undefined) return { example, input, label };
      // Fitted where the field's value begins in the model's own answer (the correction's, where the model's lacks it).
      const prefix = [example.answer, example.output].map((answer) => answerObject(answer)).map((answer) => (answer === null ? null : answerPrefixGrammar(field, answer))).find((p) => p !== null);
      return prefix === undefined || prefix === null ? null : { example, input, label, prefix };
    }).filter((e) => e !== null);
    const labels = request.labels ?? [...new Set(usable.map((e) => e.label))].sort();
    const examples = usable.filter((e) => labels.includes(e.label));
    const what = field === undefined ? "a label-like answer" : `a structured answer with a label in ${JSON.stringify(field)}`;
    if (examples.length === 0) throw new FitError("fit_too_few_examples", `no rated example of ${request.taskClass} carries one of the labels (${found.length} rated, ${usable.length} with ${what})`);
    const classification = examples.map((e) => e.example.classification).reduce((a, b) => (classificationLevel(b) > classificationLevel(a) ? b : a));

    checkFitExamples(labels, examples);

    const job: FitJob = {
      id: randomUUID(), tenant: request.tenant, baseModel: request.baseModel, taskClass: request.taskClass,
      createdAt: new Date().toISOString(), examples: examples.length, state: { status: "running" },
    };
    const fit = this.service.fit({
      baseModel: request.baseModel,
      taskClass: request.taskClass,
      tenant: request.tenant,
      classification,
      labels,
      ...(field === undefined ? {} : { labelField: field }),
      examples: examples.map((e) => ({ input: e.input, label: e.label, ...("prefix" in e ? { prefix: e.prefix } : {}) })),
      actor: request.actor,
    });
    this.remember(job);
    fit.then(
      (outcome) => (job.state = { status: "succeeded", outcome, skipped: found.length - examples.length }),
      (error: unknown) => {
        if (error instanceof FitError) {
          job.state = { status: "failed", code: error.code, message: error.message };
          return;
        }
        job.state = { status: "failed", code: "fit_failed", message: "the fit failed; the gateway log says why" };
        this.onError(error, job);
      },
    );
    return job;
  }

  get(tenant: string, id: string): FitJob | null {
    const job = this.jobs.get(id);
    return job !== undefined && job.tenant === tenant ? job : null;
  }

  private remember(job: FitJob): void {
    this.jobs.set(job.id, job);
    for (const [id, old] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) break;
      if (old.state.status !== "running") this.jobs.delete(id);
    }
  }
}

/**
 * The stored input as the model read it when it answered: a chat, a completion prompt, a synchronous task's
 * `{input, instructions, schema?}` rebuilt as the chat the task ran as (its instructions, its work and the schema it
 * was shown: src/pipeline/task-prompt.ts), or an asynchronous task's microtask, stored as `{task, microtask, attempt,
 * input}` whose `input` is the chat it ran as (its predecessors' outputs in place, the schema shown in it). Null
 * where it cannot be rebuilt: those are skipped.
 */
export function fitInputOf(example: Pick<RatedExample, "endpoint" | "input" | "grammar" | "registeredSchema">): GenerationInput | null {
  const microtaskInput = example.endpoint === "tasks" ? storedMicrotaskInput(example.input) : undefined;
  if (microtaskInput !== undefined) return generationInputOf(microtaskInput);
  if (example.endpoint === "tasks") {
    const messages = storedTaskMessages(example.input, { structured: example.grammar === "json_schema", registeredSchema: example.registeredSchema ?? null });
    return messages === null ? null : { kind: "chat", messages };
  }
  return generationInputOf(example.input);
}

/** A chat or completion as stored (the model's input before adaptation added to it); null for anything else. */
function generationInputOf(stored: unknown): GenerationInput | null {
  const input = stored as { kind?: unknown; messages?: unknown; prompt?: unknown } | null;
  if (input?.kind === "completion" && typeof input.prompt === "string") return { kind: "completion", prompt: input.prompt };
  if (input?.kind === "chat" && Array.isArray(input.messages)) return { kind: "chat", messages: input.messages as Extract<GenerationInput, { kind: "chat" }>["messages"] };
  return null;
}

/**
 * The label field the rated executions' adaptation records name; undefined where none names one (plain answers).
 * Answers of one class under schemas with different label fields are not fitted together: the operator chooses.
 */
function recordedLabelField(taskClass: string, found: readonly RatedExample[]): string | undefined {
  const fields = [...new Set(found.flatMap((example) => (example.labelField === undefined ? [] : [example.labelField])))];
  if (fields.length > 1) throw new FitError("fit_label_field_ambiguous", `the rated answers of ${taskClass} have different label fields (${fields.sort().join(", ")}); name one as label_field`);
  return fields[0];
}

/**
 * A label-like answer: a short single line, or one string field of a JSON object (or, given a field, a string that
 * is not a JSON object: a rater's correction of that field alone). Given the labels, an answer that
 * reads as one of them up to case, quotes and a final full stop ("Sports." for `sports`) counts as that label.
 */
export function labelOf(output: unknown, field?: string, labels?: readonly string[]): string | null {
  let value = output;
  if (field !== undefined) {
    // A rater may correct a structured answer with the whole object or with the field's value alone.
    const answer = answerObject(value);
    value = answer !== null ? answer[field] : typeof value === "string" ? value : undefined;
  }
  if (typeof value !== "string") return null;
  const label = value.trim();
  if (label === "" || label.length > 64 || label.includes("\n")) return null;
  if (labels === undefined) return label;
  const plain = label.replace(/^["'`]+|["'`.]+$/g, "").toLowerCase();
  return labels.find((l) => l.toLowerCase() === plain) ?? null;
}
