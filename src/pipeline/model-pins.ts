import { unwatchFile, watchFile, type StatsListener } from "node:fs";
import type { LlamaEngine } from "../inference/llama/engine.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";
import type { ModelDirectory } from "./model-directory.js";

/** What one look at the pins found, against what the gateway serves. */
export interface PinsReload {
  /** Pinned since the gateway started or last looked: now hosted, loading (GET /v1/models/:id says when ready). */
  added: string[];
  /** Pinned otherwise than served (another file, digest, capabilities...), or unpinned: as served until a restart. */
  restartNeeded: Array<{ id: string; reason: "changed" | "unpinned" }>;
}

export interface ModelPinFollowerOptions {
  /** The models the configuration pins now (the site's manifest, then the installed family); throws on a bad manifest. */
  read: () => CatalogModel[];
  engine: Pick<LlamaEngine, "add">;
  models: Pick<ModelDirectory, "add" | "list">;
  /** The site's manifest, which `atomic models add` writes: followed by polling its modification time. */
  manifestPath: string;
  logger: Logger;
}

/**
 * Serves models pinned while the gateway runs (`atomic models add`, here or on a shared manifest), without a
 * restart: each new id gets a model host, and joins the directory that GET /v1/models, named requests and bidding
 * read. Replacing or removing a served model is not done here (its requests in flight would need draining): such
 * a pin is reported, and takes effect at the next start. A look runs to its end without yielding, so the watcher
 * and the admin route never add a model twice.
 */
export class ModelPinFollower {
  private listener: StatsListener | undefined;
  private reported = "[]";

  constructor(private readonly options: ModelPinFollowerOptions) {}

  /** Hosts what is newly pinned and says what else changed; throws (changing nothing) when the pins cannot be read. */
  reload(): PinsReload {
    const { engine, models, logger } = this.options;
    const pinned = this.options.read();
    const served = new Map(models.list().map(({ model }) => [model.id, model]));
    const pinnedIds = new Set(pinned.map((model) => model.id));
    const added: string[] = [];
    const restartNeeded: PinsReload["restartNeeded"] = [];
    for (const model of pinned) {
      const current = served.get(model.id);
      if (current === undefined) {
        // The host first: a request that finds the model in the directory then finds it loading, not missing.
        // Not awaited: it settles once the model is ready or refused, which the host records itself.
        void engine.add(model);
        models.add(model);
        added.push(model.id);
      } else if (JSON.stringify(current) !== JSON.stringify(model)) {
        // Both read the same way, so any difference is in the pin: its file, digest, capabilities, cost or limits.
        restartNeeded.push({ id: model.id, reason: "changed" });
      }
    }
    for (const id of served.keys()) if (!pinnedIds.has(id)) restartNeeded.push({ id, reason: "unpinned" });
    if (added.length > 0) logger.info({ models: added }, "models: serving newly pinned models");
    // Said once per change of the pins, not on every look (the manifest also changes with adapters).
    const report = JSON.stringify(restartNeeded);
    if (report !== this.reported && restartNeeded.length > 0) logger.warn({ models: restartNeeded }, "models: pins changed for models being served; they are served as they were until the gateway restarts");
    this.reported = report;
    return { added, restartNeeded };
  }

  /** Follows the manifest file, looking again within about `intervalMs` of a change; `close` stops. */
  watch(intervalMs = 1000): void {
    if (this.listener !== undefined) return;
    this.listener = () => {
      try {
        this.reload();
      } catch (error) {
        this.options.logger.warn({ err: error }, "models: the manifest could not be read; the models served stay as they are");
      }
    };
    watchFile(this.options.manifestPath, { interval: intervalMs, persistent: false }, this.listener);
  }

  /** Stops following; a look in progress finishes. */
  close(): void {
    if (this.listener !== undefined) unwatchFile(this.options.manifestPath, this.listener);
    this.listener = undefined;
  }
}
