import { unwatchFile, watchFile } from "node:fs";
import { loadManifest, modelFilePath, type AdapterEntry } from "../../models/manifest.js";
import { classificationLevel } from "../../policy/classification.js";
import type { AdapterCatalog, AdapterRef, AdapterScope } from "./interface.js";

export interface ManifestAdapterCatalogOptions {
  /** The site's manifest, where adapters are pinned (`atomic models add-adapter`, fits). */
  manifestPath: string;
  /**
   * Ids of the models this process serves (a function where pins change while it runs, read at every reload):
   * adapters of any other base model are left out.
   */
  servedModels: readonly string[] | (() => readonly string[]);
  /** Told when the manifest cannot be read on a reload; the adapters known before stay in force. */
  onReloadError?: (error: Error) => void;
}

/**
 * The promoted adapters of the manifest, indexed in memory so that `current` answers without I/O on the request
 * path. A change to the manifest file (a CLI promotion or rollback, a fit finishing in this or another process)
 * is picked up within about a second by polling its modification time, off the request path.
 */
export class ManifestAdapterCatalog implements AdapterCatalog {
  private promoted = new Map<string, { ref: AdapterRef; level: number }>();
  private watching = false;

  constructor(private readonly options: ManifestAdapterCatalogOptions) {
    this.reload();
  }

  current(modelId: string, taskClass: string, scope: AdapterScope): AdapterRef | null {
    const level = classificationLevel(scope.classification);
    for (const slot of [key(modelId, scope.tenant, taskClass), key(modelId, null, taskClass), key(modelId, scope.tenant, null), key(modelId, null, null)]) {
      const found = this.promoted.get(slot);
      if (found !== undefined && found.level <= level) return found.ref;
    }
    return null;
  }

  /** Every promoted adapter, for operators. */
  list(): AdapterRef[] {
    return [...this.promoted.values()].map((found) => found.ref);
  }

  reload(): void {
    const manifest = loadManifest(this.options.manifestPath);
    const servedModels = this.options.servedModels;
    const served = new Set(typeof servedModels === "function" ? servedModels() : servedModels);
    const promoted = new Map<string, { ref: AdapterRef; level: number }>();
    for (const entry of manifest.adapters ?? []) {
      if (entry.status !== "promoted" || !served.has(entry.baseModel)) continue;
      // An operator's adapter carries no data of a tenant's: every request may have it.
      const level = entry.classification === undefined ? -1 : classificationLevel(entry.classification);
      promoted.set(key(entry.baseModel, entry.tenant ?? null, entry.taskClass), { ref: toRef(this.options.manifestPath, entry), level });
    }
    this.promoted = promoted;
  }

  /** Starts following the manifest file; `close` stops. */
  watch(intervalMs = 1000): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.options.manifestPath, { interval: intervalMs, persistent: false }, () => this.reloadOrWarn());
  }

  /** A reload whose failure goes to onReloadError, the adapters known before staying in force. */
  reloadOrWarn(): void {
    try {
      this.reload();
    } catch (error) {
      this.options.onReloadError?.(error as Error);
    }
  }

  close(): void {
    if (this.watching) unwatchFile(this.options.manifestPath);
    this.watching = false;
  }
}

export function toRef(manifestPath: string, entry: AdapterEntry): AdapterRef {
  return {
    id: entry.id,
    sha256: entry.sha256,
    baseModel: entry.baseModel,
    taskClass: entry.taskClass,
    tenant: entry.tenant ?? null,
    version: entry.version,
    path: modelFilePath(manifestPath, entry),
    scale: entry.scale,
    ...(entry.fit === undefined ? {} : { labels: entry.fit.labels }),
    ...(entry.fit?.labelField === undefined ? {} : { labelField: entry.fit.labelField }),
  };
}

function key(modelId: string, tenant: string | null, taskClass: string | null): string {
  return `${modelId}\u0000${tenant ?? ""}\u0000${taskClass ?? ""}`;
}
