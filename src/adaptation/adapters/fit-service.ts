import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { systemEvent } from "../../audit/events.js";
import type { AuditEvent } from "../../audit/core/entry.js";
import type { GenerationInput } from "../../inference/interface.js";
import { nextVersion, pinAdapter, promoteAdapter, promotedOf, type AdapterSlot } from "../../models/adapters/registry.js";
import type { Classification } from "../../policy/classification.js";
import { loadManifest, modelFilePath, type AdapterEntry } from "../../models/manifest.js";
import { fitAdapter, FitError, type FitAdapterResult } from "./fit/fit-adapter.js";
import type { AnswerPrefix } from "./fit/answer-prefix.js";
import type { ProbeOptions } from "./fit/probe.js";

export interface FitServiceOptions {
  /** The site's manifest: fitted adapters are pinned there. */
  manifestPath: string;
  /** The models this process may fit for: id, file, pinned digest (a function where pins change while it runs). */
  models: ReadonlyArray<{ id: string; path: string; sha256: string }> | (() => ReadonlyArray<{ id: string; path: string; sha256: string }>);
  /** Folder of fitted adapter files (default: `adapters/` beside the manifest). */
  adaptersDir?: string;
  /** Writes an audit event; the fit's outcome waits for it. */
  record(event: AuditEvent): Promise<void>;
  threads?: number;
  contextSize?: number;
}

export interface FitRequest {
  baseModel: string;
  /** null: an adapter for every task class of the base model. */
  taskClass: string | null;
  /**
   * Fitted on this tenant's rated executions: the adapter serves that tenant only. Absent: an operator's examples,
   * for every tenant.
   */
  tenant?: string;
  /** The highest classification among the examples: the adapter serves requests at or above it only. */
  classification?: Classification;
  labels: string[];
  /**
   * The label is this field of a structured answer (answer-prefix.ts); each example then carries the answer's
   * beginning up to the field's value, where the adapter is fitted. Absent: the label is the whole answer.
   */
  labelField?: string;
  examples: Array<{ input: GenerationInput; label: string; prefix?: AnswerPrefix }>;
  /** Who asked, for the audit events. */
  actor?: AuditEvent["actor"];
  seed?: number;
  probe?: Partial<ProbeOptions>;
}

export interface FitOutcome {
  adapter: AdapterEntry;
  promoted: boolean;
  /** Why it was or was not promoted, in words. */
  decision: string;
  result: FitAdapterResult;
}

/**
 * Fits, pins and — when it wins its canary — promotes an adapter, recording `adapter.fitted` and `adapter.promoted`.
 * The fit itself runs in a process of its own (fit/fit-adapter.ts), off the request path: this service is what an
 * admin route, the feedback integrator or `atomic models adapter fit` calls. One fit at a time per service, so
 * versions are assigned in order and fits do not compete for the CPU the model hosts serve from.
 */
export class AdapterFitService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FitServiceOptions) {}

  fit(request: FitRequest): Promise<FitOutcome> {
    const run = this.queue.then(() => this.fitNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async fitNow(request: FitRequest): Promise<FitOutcome> {
    const models = this.options.models;
    const base = (typeof models === "function" ? models() : models).find((m) => m.id === request.baseModel);
    if (!base) throw new FitError("model_not_found", `model ${request.baseModel} is not served here`);
    const { manifestPath } = this.options;
    const manifest = loadManifest(manifestPath);
    const slot: AdapterSlot = { baseModel: base.id, taskClass: request.taskClass, ...(request.tenant === undefined ? {} : { tenant: request.tenant }) };
    const current = promotedOf(manifest, slot);
    const version = nextVersion(manifest, slot);
    const id = `${base.id}.${request.tenant === undefined ? "" : `${slug(request.tenant)}.`}${slug(request.taskClass)}.v${version}`.slice(0, 128);
    const folder = this.options.adaptersDir ?? join(dirname(resolve(manifestPath)), "adapters");
    const file = join(folder, `${id}.gguf`);
    mkdirSync(folder, { recursive: true });

    let result: FitAdapterResult;
    try {
      result = await fitAdapter({
        baseModel: base,
        labels: request.labels,
        examples: request.examples,
        current: current ? { id: current.id, path: modelFilePath(manifestPath, current), sha256: current.sha256, scale: current.scale } : null,
        output: file,
        threads: this.options.threads ?? 1,
        contextSize: this.options.contextSize ?? 2048,
        ...(request.seed === undefined ? {} : { seed: request.seed }),
        ...(request.probe === undefined ? {} : { probe: request.probe }),
      });
    } catch (error) {
      rmSync(file, { force: true });
      throw error;
    }

    const manifestFolder = dirname(resolve(manifestPath));
    const adapter: AdapterEntry = {
      id,
      file: file.startsWith(manifestFolder + sep) ? relative(manifestFolder, file) : file,
      sha256: result.sha256,
      sizeBytes: result.sizeBytes,
      baseModel: base.id,
      taskClass: request.taskClass,
      ...(request.tenant === undefined ? {} : { tenant: request.tenant }),
      ...(request.classification === undefined ? {} : { classification: request.classification }),
      version,
      scale: 1,
      status: "candidate",
      createdAt: new Date().toISOString(),
      fit: {
        labels: result.labels,
        ...(request.labelField === undefined ? {} : { labelField: request.labelField }),
        examples: result.counts.examples,
        heldBack: result.counts.heldBack,
        accuracy: result.accuracy,
      },
    };
    pinAdapter(manifestPath, adapter);
    const model = { id: base.id, sha256: base.sha256 };
    const scope = { ...(request.tenant === undefined ? {} : { tenant: request.tenant }), ...(request.classification === undefined ? {} : { classification: request.classification }) };
    const actor = request.actor === undefined ? {} : { actor: request.actor };
    // Both events name the adapter and its slot the same way.
    const named = { adapter: id, sha256: result.sha256, version, taskClass: request.taskClass, ...scope };
    await this.options.record(systemEvent("adapter.fitted", {
      ...actor,
      model,
      detail: {
        ...named,
        target: result.target,
        examples: result.counts.examples,
        fitted: result.counts.fitted,
        heldBack: result.counts.heldBack,
        accuracy: result.accuracy,
        featuresMs: Math.round(result.timings.featuresMs),
        fitMs: Math.round(result.timings.fitMs),
      },
    }));

    const decision = describe(result, current);
    if (!result.beats) return { adapter, promoted: false, decision, result };
    const change = promoteAdapter(manifestPath, id);
    await this.options.record(systemEvent("adapter.promoted", {
      ...actor,
      model,
      detail: {
        ...named,
        previous: change.previous ? { adapter: change.previous.id, sha256: change.previous.sha256 } : null,
        reason: "canary",
        accuracy: result.accuracy,
      },
    }));
    return { adapter: change.promoted ?? adapter, promoted: true, decision, result };
  }
}

function describe(result: FitAdapterResult, current: AdapterEntry | undefined): string {
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)} %`);
  const candidate = pct(result.accuracy.candidate);
  if (result.currentNotComparable) return `kept ${current?.id}: ${result.currentNotComparable}, so the candidate (${candidate}) cannot be compared with it`;
  const against = current ? `the current adapter ${current.id}` : "the base model";
  const reference = pct(current ? result.accuracy.current : result.accuracy.base);
  return result.beats
    ? `promoted: ${candidate} on ${result.counts.heldBack} held-back examples against ${reference} for ${against}`
    : `not promoted: ${candidate} on ${result.counts.heldBack} held-back examples does not beat ${reference} for ${against}`;
}

/** A task class as part of an adapter id: "schema:invoice@2" → "schema-invoice-2"; null → "any". */
function slug(taskClass: string | null): string {
  if (taskClass === null) return "any";
  return taskClass.replace(/[^a-zA-Z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80) || "class";
}
