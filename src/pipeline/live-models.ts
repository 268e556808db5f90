import { systemEvent } from "../audit/events.js";
import type { AuditEvent } from "../audit/core/entry.js";
import { ApiError, notFound } from "../gateway/errors.js";
import type { ModelStatus } from "../inference/interface.js";
import type { DrainOutcome, LlamaEngine, ReplaceOutcome } from "../inference/llama/engine.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";
import type { ModelDirectory } from "./model-directory.js";

export interface LiveModelsOptions {
  engine: Pick<LlamaEngine, "add" | "replace" | "unload" | "remove" | "isHosted" | "status">;
  models: Pick<ModelDirectory, "add" | "replace" | "remove" | "get">;
  /** Where what the gateway did on its own (a replacement's outcome, an unpinned model's removal) is audited. */
  record: (event: AuditEvent) => Promise<void>;
  logger: Logger;
  /**
   * Whether an operator has `id` out of service (on any gateway: src/pipeline/model-service.ts): a model pinned
   * while the gateway runs is then listed as unloaded rather than hosted. Absent: none is.
   */
  outOfService?: (id: string) => boolean;
}

/** A model an operator took out of service or put back: what it is now. */
export interface ServingChange {
  model: CatalogModel;
  status: ModelStatus;
}

const idle = (id: string): ModelStatus => ({ id, state: "unloaded", inFlight: 0, queued: 0 });

/** 409 for an unload of a model that nothing hosts. */
export const notHosted = (id: string) => new ApiError(409, "invalid_request_error", "model_not_hosted", `model ${id} is not hosted: it is already unloaded`, "id");
/** 409 for a load of a model that a host serves. */
export const alreadyHosted = (id: string, state: string | undefined) => new ApiError(409, "invalid_request_error", "model_already_hosted", `model ${id} is hosted (${state}): unload it first`, "id");

/**
 * Changes which models are served while the gateway runs, keeping the engine's hosts and the directory (what
 * named requests, GET /v1/models and bidding read) in step: a model is listed only once something hosts it, a
 * replacement is switched in both at the same moment, and a model that goes leaves the directory before its host
 * drains. Every change is made without yielding between the engine and the directory.
 */
export class LiveModels {
  /** Replacements loading, by id: the pin each is loading, so that a newer change or an unload can call it off. */
  private readonly replacing = new Map<string, CatalogModel>();

  constructor(private readonly options: LiveModelsOptions) {}

  /** A newly pinned model: its host first, so that a request finding it in the directory finds it loading. */
  add(model: CatalogModel): void {
    if (this.options.outOfService?.(model.id) === true) {
      // Known to the engine as unloaded (no host starts), then listed: refused as unloaded, not as unknown.
      this.options.engine.unload(model.id);
      this.options.models.add(model);
      return;
    }
    // Not awaited: it settles once the model is ready or refused, which the host records itself.
    void this.options.engine.add(model);
    this.options.models.add(model);
  }

  /** The pinned model `id` and its status now; 404 for an id not pinned. */
  serving(id: string): ServingChange {
    return { model: this.pinned(id), status: this.options.engine.status(id) ?? idle(id) };
  }

  /** The pin a replacement is loading for `id`, if one is. */
  replacementFor(id: string): CatalogModel | undefined {
    return this.replacing.get(id);
  }

  /** Calls off the replacement loading for `id`, if any: it is stopped once loaded, and the served pin stays. */
  callOff(id: string): void {
    this.replacing.delete(id);
  }

  /** A changed pin for a model an operator unloaded: the directory takes it at once, and the next load hosts it. */
  replaceUnloaded(next: CatalogModel, previous: CatalogModel): void {
    this.options.models.replace(next);
    void this.audit("models.replaced", next, { status: "succeeded" }, { previousSha256: previous.sha256, state: "unloaded" });
  }

  /** Whether a host serves `id` now, rather than none (an operator unloaded it). */
  isHosted(id: string): boolean {
    return this.options.engine.isHosted(id);
  }

  /**
   * Loads `next` beside the served `current` and switches to it once ready; until then, and for good if `next` is
   * refused (digest, format, crash on load), `current` serves. Audited as `models.replaced`, switched or refused.
   */
  replace(current: CatalogModel, next: CatalogModel): Promise<ReplaceOutcome> {
    const { engine, models, logger } = this.options;
    this.replacing.set(next.id, next);
    const log = logger.child({ model: next.id });
    log.info({ from: current.sha256, to: next.sha256 }, "models: loading the new pin beside the one served");
    const commit = () => {
      if (this.replacing.get(next.id) !== next) return false;
      this.replacing.delete(next.id);
      models.replace(next);
      return true;
    };
    const outcome = engine.replace(next, commit).catch((error: unknown): ReplaceOutcome => {
      log.error({ err: error }, "models: replacing failed");
      return { kind: "refused", code: "model_load_failed", reason: (error as Error)?.message ?? String(error) };
    });
    return outcome.then((result) => {
      if (this.replacing.get(next.id) === next) this.replacing.delete(next.id);
      if (result.kind === "abandoned") {
        log.info({ sha256: next.sha256 }, "models: a replacement was called off (pins changed again, or the model was unloaded)");
        return result;
      }
      if (result.kind === "refused") {
        log.warn({ sha256: next.sha256, code: result.code, reason: result.reason }, "models: the new pin was refused; the previous one serves on");
        void this.audit("models.replaced", next, { status: "refused", code: result.code }, { previousSha256: current.sha256, reason: result.reason });
        return result;
      }
      log.info({ from: result.previous, to: next.sha256 }, "models: switched to the new pin; the previous host drains");
      void this.audit("models.replaced", next, { status: "succeeded" }, { previousSha256: result.previous });
      void result.drained.then((drained) => this.logDrained(drained, next.id));
      return result;
    });
  }

  /** A model no longer pinned: unknown to new requests at once; its host finishes what it admitted, then stops. */
  remove(model: CatalogModel): ModelStatus {
    const { engine, models } = this.options;
    this.callOff(model.id);
    const status = engine.status(model.id) ?? idle(model.id);
    models.remove(model.id);
    const drained = engine.remove(model.id);
    void this.audit("models.removed", model, { status: "succeeded" }, { inFlight: status.inFlight, queued: status.queued });
    void drained?.then((outcome) => this.logDrained(outcome, model.id));
    return engine.status(model.id) ?? idle(model.id);
  }

  /**
   * An operator's unload: the model stays pinned and listed (`draining`, then `unloaded`), requests naming it are
   * refused with 503 model_unloaded, bidding leaves it out, and it stays so, across reloads, until load(). (That
   * it stays so across restarts and on every gateway is src/pipeline/model-service.ts's.) 404 for an id not
   * pinned, 409 when nothing hosts it.
   */
  unload(id: string, drainTimeoutMs?: number): ServingChange {
    const { engine } = this.options;
    const model = this.pinned(id);
    const drained = engine.isHosted(id) ? engine.unload(id, drainTimeoutMs) : undefined;
    if (drained === undefined) throw notHosted(id);
    this.callOff(id);
    void drained.then((outcome) => this.logDrained(outcome, id));
    return { model, status: engine.status(id) ?? idle(id) };
  }

  /** An operator's load of an unloaded model, as pinned now: answered as loading. 409 when a host serves it. */
  load(id: string): ServingChange {
    const { engine } = this.options;
    const model = this.pinned(id);
    if (engine.isHosted(id)) throw alreadyHosted(id, engine.status(id)?.state);
    void engine.add(model);
    return { model, status: engine.status(id) ?? idle(id) };
  }

  private pinned(id: string): CatalogModel {
    const model = this.options.models.get(id);
    if (model === undefined) throw notFound("model_not_found", `model ${id} is not pinned`, "id");
    return model;
  }

  private logDrained(outcome: DrainOutcome, id: string): void {
    const log = this.options.logger.child({ model: id });
    if (outcome.aborted > 0) log.warn({ sha256: outcome.sha256, aborted: outcome.aborted }, "models: drain timed out; the requests left were cut off, and the host stopped");
    else log.info({ sha256: outcome.sha256 }, "models: drained; the host stopped");
  }

  private audit(kind: "models.replaced" | "models.removed", model: CatalogModel, outcome: AuditEvent["outcome"], detail: Record<string, unknown>): Promise<void> {
    return this.options.record(systemEvent(kind, { model: { id: model.id, sha256: model.sha256 }, outcome, detail }));
  }
}
