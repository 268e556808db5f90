import { statSync, unwatchFile, watchFile, type StatsListener } from "node:fs";
import type { ModelState } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";
import type { LiveModels } from "./live-models.js";
import type { ModelDirectory } from "./model-directory.js";

/** What one look at the pins found, against what the gateway serves, and what it did about it. */
export interface PinsReload {
  /** Pinned since the gateway started or last looked: now hosted, loading (GET /v1/models/:id says when ready). */
  added: string[];
  /**
   * Pinned otherwise than served (another file, digest, capabilities, cost or limits): the new pin is `loading`
   * beside the served one, which serves until the switch; or, for a model an operator unloaded, `unloaded` (the
   * directory holds the new pin, hosted at the next load).
   */
  replaced: Array<{ id: string; sha256: string; previousSha256: string; state: "loading" | "unloaded" }>;
  /** Unpinned: gone from the directory, its host draining (or already stopped). */
  removed: Array<{ id: string; sha256: string; state: ModelState }>;
  /** Changed pins whose file was refused: the previous pin serves on. Tried again once the pin or the file changes. */
  refused: Array<{ id: string; sha256: string; code: string; reason: string }>;
}

export interface ModelPinFollowerOptions {
  /** The models the configuration pins now (the site's manifest, then the installed family); throws on a bad manifest. */
  read: () => CatalogModel[];
  live: LiveModels;
  models: Pick<ModelDirectory, "list">;
  /** The site's manifest, which `atomic models add` writes: followed by polling its modification time. */
  manifestPath: string;
  logger: Logger;
  /** Called after a look that changed what is served (added, replaced, removed). */
  onChanged?: () => void;
}

interface Refusal {
  pin: string;
  /** The file as it was refused: an operator who puts the right bytes in its place has it tried again. */
  file: string;
  sha256: string;
  code: string;
  reason: string;
}

const pinOf = (model: CatalogModel) => JSON.stringify(model);

function fileOf(model: CatalogModel): string {
  try {
    const stats = statSync(model.path);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return "missing";
  }
}

/**
 * Makes the pins (`atomic models add`, here or on a shared manifest) what the gateway serves, without a restart:
 * a new id is hosted, a changed pin replaces the served one once its file has loaded, an unpinned model leaves the
 * directory and drains. A look runs to its end without yielding, so the watcher and the admin route never act
 * twice on one change.
 */
export class ModelPinFollower {
  private listener: StatsListener | undefined;
  /** Pins refused, by id: not loaded again on every look (the manifest also changes with adapters), only once changed. */
  private readonly refusals = new Map<string, Refusal>();

  constructor(private readonly options: ModelPinFollowerOptions) {}

  /** Brings the served models to the pins; throws (changing nothing) when the pins cannot be read. */
  reload(): PinsReload {
    const { live, models, logger } = this.options;
    const pinned = this.options.read();
    const served = new Map(models.list().map(({ model }) => [model.id, model]));
    const pinnedIds = new Set(pinned.map((model) => model.id));
    const result: PinsReload = { added: [], replaced: [], removed: [], refused: [] };
    for (const model of pinned) {
      const current = served.get(model.id);
      if (current === undefined) {
        live.add(model);
        result.added.push(model.id);
        continue;
      }
      // Both read the same way, so any difference is in the pin: its file, digest, capabilities, cost or limits.
      const pin = pinOf(model);
      if (pin === pinOf(current)) {
        // Back to what is served: a replacement still loading is called off (stopped once it has loaded).
        live.callOff(model.id);
        this.refusals.delete(model.id);
        continue;
      }
      const change = { id: model.id, sha256: model.sha256, previousSha256: current.sha256 };
      const loading = live.replacementFor(model.id);
      if (loading !== undefined && pinOf(loading) === pin) {
        result.replaced.push({ ...change, state: "loading" });
        continue;
      }
      const refusal = this.refusals.get(model.id);
      if (refusal?.pin === pin && refusal.file === fileOf(model)) {
        result.refused.push({ id: model.id, sha256: refusal.sha256, code: refusal.code, reason: refusal.reason });
        continue;
      }
      this.refusals.delete(model.id);
      if (!live.isHosted(model.id)) {
        live.replaceUnloaded(model, current);
        result.replaced.push({ ...change, state: "unloaded" });
        continue;
      }
      const file = fileOf(model);
      void live.replace(current, model).then((outcome) => {
        if (outcome.kind === "refused" && live.replacementFor(model.id) === undefined) {
          this.refusals.set(model.id, { pin, file, sha256: model.sha256, code: outcome.code, reason: outcome.reason });
        }
      });
      result.replaced.push({ ...change, state: "loading" });
    }
    for (const [id, model] of served) {
      if (pinnedIds.has(id)) continue;
      this.refusals.delete(id);
      result.removed.push({ id, sha256: model.sha256, state: live.remove(model).state });
    }
    const changed = result.added.length + result.removed.length + result.replaced.filter((r) => r.state === "unloaded").length;
    if (changed > 0) logger.info({ added: result.added, replaced: result.replaced, removed: result.removed }, "models: the pins changed; serving them now");
    if (result.added.length + result.replaced.length + result.removed.length > 0) this.options.onChanged?.();
    return result;
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
