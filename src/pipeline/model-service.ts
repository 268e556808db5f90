import type { AuditEvent } from "../audit/core/entry.js";
import type { ModelServiceStore, StoredModelService } from "../models/service/interface.js";
import type { Logger } from "../observability/logger.js";
import { alreadyHosted, notHosted, type LiveModels, type ServingChange } from "./live-models.js";
import type { ModelDirectory } from "./model-directory.js";
import { SerialRefresher } from "../util/serial-refresher.js";

/** What the choices are applied to: a gateway's (or worker's) live models, and the models it has pinned. */
export interface ModelServiceTarget {
  live: Pick<LiveModels, "serving" | "isHosted" | "unload" | "load">;
  models: Pick<ModelDirectory, "list">;
  /** Called once a model was unloaded or loaded here (a Temporal worker then advertises what it hosts now). */
  onChanged?: () => void;
}

/** Who makes an operator's change, and the audit event it is recorded as (queued in the same transaction). */
export interface ServiceChangeBy {
  /** The subject of the credential. */
  updatedBy: string;
  /** The event, from the model as pinned and its status before the change (what it had admitted). */
  audit: (before: ServingChange) => AuditEvent;
}

/**
 * An operator's unload and load, made on one gateway and in force on every gateway and `atomic worker` of the
 * database. The choice is stored first (with its audit event, in one transaction) and applied here at once; the
 * others read the table every models.serviceStateRefreshMs (refreshEvery) and bring their hosts to it through the
 * same live-models machinery: a model unloaded elsewhere drains and unloads here, one loaded elsewhere is hosted
 * here again. A process starting reads the table before it loads anything (unloadedIds), so that a model out of
 * service is not loaded at all.
 */
export class ModelService {
  /** Writes and refreshes one at a time: a refresh never undoes a change it raced with. */
  private readonly serial = new SerialRefresher(() => this.refresh());
  private target: ModelServiceTarget | undefined;
  /** A refresh failed since the last one that worked: a streak of failures is warned of once. */
  private reported = false;

  private constructor(
    private readonly store: ModelServiceStore,
    private readonly logger: Logger,
    private stored: Map<string, StoredModelService>,
  ) {}

  /** Throws when the table cannot be read: a process does not start serving models it might have to leave out. */
  static async open(store: ModelServiceStore, logger: Logger): Promise<ModelService> {
    const rows = await store.list();
    return new ModelService(store, logger, new Map(rows.map((row) => [row.modelId, row])));
  }

  /** Whether the stored choice for `id` is unloaded. */
  isUnloaded(id: string): boolean {
    return this.stored.get(id)?.unloaded === true;
  }

  /** The ids stored as unloaded, as last read. */
  unloadedIds(): Set<string> {
    return new Set([...this.stored.values()].filter((row) => row.unloaded).map((row) => row.modelId));
  }

  /** The stored choice for `id`, if any. */
  choice(id: string): StoredModelService | undefined {
    return this.stored.get(id);
  }

  /** Where the choices apply from now on: required before unload(), load() and refreshes that change anything. */
  follow(target: ModelServiceTarget): void {
    this.target = target;
  }

  /**
   * An operator's unload: stored (and audited) for every gateway and worker, then made here (drain, unload). 404 for
   * an id not pinned here; 409 model_not_hosted when nothing hosts it here and it is stored as unloaded already.
   */
  unload(id: string, drainTimeoutMs: number | undefined, by: ServiceChangeBy): Promise<ServingChange> {
    return this.serial.serially(async () => {
      const { live } = this.attached();
      const before = live.serving(id);
      const hosted = live.isHosted(id);
      // As stored now, not as last refreshed: another gateway may have changed it since.
      await this.reread();
      if (!hosted && this.isUnloaded(id)) throw notHosted(id);
      await this.write(id, true, before, by);
      // Not hosted here though stored in service: a load elsewhere that this process has not applied yet.
      if (!hosted) return live.serving(id);
      const change = live.unload(id, drainTimeoutMs);
      this.target?.onChanged?.();
      return change;
    });
  }

  /**
   * An operator's load: stored (and audited) for every gateway and worker, then made here (hosted as pinned now).
   * 404 for an id not pinned here; 409 model_already_hosted when a host serves it here and it is stored in service.
   */
  load(id: string, by: ServiceChangeBy): Promise<ServingChange> {
    return this.serial.serially(async () => {
      const { live } = this.attached();
      const before = live.serving(id);
      const hosted = live.isHosted(id);
      // As stored now, not as last refreshed: another gateway may have changed it since.
      await this.reread();
      if (hosted && !this.isUnloaded(id)) throw alreadyHosted(id, before.status.state);
      await this.write(id, false, before, by);
      // Hosted here though stored as unloaded: an unload elsewhere that this process has not applied yet.
      if (hosted) return live.serving(id);
      const change = live.load(id);
      this.target?.onChanged?.();
      return change;
    });
  }

  /**
   * Reads the table again and brings the models pinned here to it. Never throws: when the table cannot be read, the
   * models stay as they are and a warning says why, once per streak of failures.
   */
  refresh(): Promise<void> {
    return this.serial.serially(async () => {
      let rows: StoredModelService[];
      try {
        rows = await this.store.list();
      } catch (error) {
        if (!this.reported) this.logger.warn({ err: error }, "models: the operators' unloads and loads could not be read again; the models stay as they are");
        this.reported = true;
        return;
      }
      this.reported = false;
      this.stored = new Map(rows.map((row) => [row.modelId, row]));
      this.apply();
    });
  }

  /** Refreshes every `intervalMs`, each time that long after the previous refresh ended, until stop(). */
  refreshEvery(intervalMs: number): void {
    this.serial.every(intervalMs);
  }

  /** No refresh starts any more; one in progress, or a change, ends first, before the database can go. */
  stop(): Promise<void> {
    return this.serial.stop();
  }

  /** Each model pinned here that is hosted against its stored choice is unloaded, and each unloaded one loaded. */
  private apply(): void {
    const target = this.target;
    if (target === undefined) return;
    let changed = false;
    for (const { model } of target.models.list()) {
      const row = this.stored.get(model.id);
      const unloaded = row?.unloaded === true;
      if (unloaded === !target.live.isHosted(model.id)) continue;
      const log = this.logger.child({ model: model.id });
      try {
        if (unloaded) {
          const { status } = target.live.unload(model.id);
          log.info({ by: row?.updatedBy, at: row?.updatedAt, inFlight: status.inFlight, queued: status.queued }, "models: unloaded by an operator (on another gateway); draining, then unloading here too");
        } else {
          target.live.load(model.id);
          log.info({ by: row?.updatedBy, at: row?.updatedAt }, "models: loaded by an operator (on another gateway); hosting it here again");
        }
        changed = true;
      } catch (error) {
        log.warn({ err: error }, "models: could not apply an operator's unload or load made on another gateway");
      }
    }
    if (changed) target.onChanged?.();
  }

  /** Takes the table as stored now; what differs from the hosts here is applied at the next refresh. */
  private async reread(): Promise<void> {
    this.stored = new Map((await this.store.list()).map((row) => [row.modelId, row]));
  }

  private async write(id: string, unloaded: boolean, before: ServingChange, by: ServiceChangeBy): Promise<void> {
    const written = await this.store.set({ modelId: id, unloaded, sha256: before.model.sha256, updatedBy: by.updatedBy }, () => by.audit(before));
    this.stored.set(id, written);
  }

  private attached(): ModelServiceTarget {
    if (this.target === undefined) throw new Error("ModelService: follow() was not called");
    return this.target;
  }

}
