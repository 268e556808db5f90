import { loadManifest, saveManifest, type AdapterEntry, type Manifest } from "../manifest.js";

/**
 * The adapter half of the model manifest: versions per (base model, task class), one promoted at most, and the
 * moves between states. Each operation reads the manifest, changes it and writes it back whole (atomically, by
 * rename); two writers at the same instant can lose one change, so adapter changes are operator-paced (the CLI,
 * an admin route, a fit finishing), never per request.
 */

export class AdapterRegistryError extends Error {
  override readonly name = "AdapterRegistryError";
}

/** Adapters of one base model and task class (null: those registered for every task class), oldest version first. */
export function adaptersOf(manifest: Manifest, baseModel: string, taskClass: string | null): AdapterEntry[] {
  return (manifest.adapters ?? [])
    .filter((a) => a.baseModel === baseModel && a.taskClass === taskClass)
    .sort((x, y) => x.version - y.version);
}

export function promotedOf(manifest: Manifest, baseModel: string, taskClass: string | null): AdapterEntry | undefined {
  return adaptersOf(manifest, baseModel, taskClass).find((a) => a.status === "promoted");
}

export function nextVersion(manifest: Manifest, baseModel: string, taskClass: string | null): number {
  return Math.max(0, ...adaptersOf(manifest, baseModel, taskClass).map((a) => a.version)) + 1;
}

export interface AdapterChange {
  promoted: AdapterEntry | null;
  /** The adapter that was promoted before, now retired. */
  previous: AdapterEntry | null;
}

/** Pins a new adapter entry; refuses an id already pinned. */
/** Pins a new adapter entry (promoted: the one promoted before is retired); refuses an id already pinned. */
export function pinAdapter(manifestPath: string, entry: AdapterEntry, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  if ((manifest.adapters ?? []).some((a) => a.id === entry.id)) throw new AdapterRegistryError(`an adapter with id ${entry.id} is already pinned`);
  const previous = entry.status === "promoted" ? promotedOf(manifest, entry.baseModel, entry.taskClass) ?? null : null;
  const pinned: AdapterEntry = entry.status === "promoted" ? { ...entry, promotedAt: entry.promotedAt ?? now.toISOString() } : entry;
  manifest.adapters = (manifest.adapters ?? []).map((a) => (a === previous ? { ...a, status: "retired" as const } : a));
  manifest.adapters.push(pinned);
  saveManifest(manifestPath, manifest);
  return { promoted: pinned.status === "promoted" ? pinned : null, previous };
}

/** Promotes a pinned adapter; the one promoted before for the same base model and task class is retired. */
export function promoteAdapter(manifestPath: string, id: string, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  const target = (manifest.adapters ?? []).find((a) => a.id === id);
  if (!target) throw new AdapterRegistryError(`no adapter with id ${id} is pinned`);
  if (target.status === "promoted") return { promoted: target, previous: null };
  const previous = promotedOf(manifest, target.baseModel, target.taskClass) ?? null;
  const promoted: AdapterEntry = { ...target, status: "promoted", promotedAt: now.toISOString() };
  delete promoted.rolledBackAt;
  manifest.adapters = manifest.adapters!.map((a) => (a.id === id ? promoted : a === previous ? { ...a, status: "retired" as const } : a));
  saveManifest(manifestPath, manifest);
  return { promoted, previous };
}

/**
 * Undoes the last promotion for a base model and task class: the promoted adapter is retired and marked rolled
 * back, and the adapter promoted before it (the latest earlier promotion not itself rolled back) is promoted
 * again; with none, the class goes back to the base model alone.
 */
export function rollbackAdapter(manifestPath: string, baseModel: string, taskClass: string | null, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  const current = promotedOf(manifest, baseModel, taskClass);
  if (!current) throw new AdapterRegistryError(`no adapter is promoted for ${baseModel} / ${taskClass ?? "every task class"}`);
  const earlier = adaptersOf(manifest, baseModel, taskClass)
    .filter((a) => a.status === "retired" && a.promotedAt !== undefined && a.rolledBackAt === undefined && a.promotedAt <= (current.promotedAt ?? now.toISOString()))
    .sort((x, y) => (x.promotedAt! < y.promotedAt! ? -1 : 1))
    .at(-1);
  const promoted = earlier ? { ...earlier, status: "promoted" as const, promotedAt: now.toISOString() } : null;
  const retired: AdapterEntry = { ...current, status: "retired", rolledBackAt: now.toISOString() };
  manifest.adapters = manifest.adapters!.map((a) => (a.id === current.id ? retired : earlier && a.id === earlier.id ? promoted! : a));
  saveManifest(manifestPath, manifest);
  return { promoted, previous: retired };
}
