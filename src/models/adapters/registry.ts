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

/**
 * Where an adapter serves: a base model, a task class (null: every class of the model) and a tenant (absent: every
 * tenant). Versions count and one adapter is promoted per slot.
 */
export interface AdapterSlot {
  baseModel: string;
  taskClass: string | null;
  tenant?: string | undefined;
}

function inSlot(adapter: AdapterEntry, slot: AdapterSlot): boolean {
  return adapter.baseModel === slot.baseModel && adapter.taskClass === slot.taskClass && (adapter.tenant ?? null) === (slot.tenant ?? null);
}

/** Adapters of one slot, oldest version first. */
export function adaptersOf(manifest: Manifest, slot: AdapterSlot): AdapterEntry[] {
  return (manifest.adapters ?? []).filter((a) => inSlot(a, slot)).sort((x, y) => x.version - y.version);
}

export function promotedOf(manifest: Manifest, slot: AdapterSlot): AdapterEntry | undefined {
  return adaptersOf(manifest, slot).find((a) => a.status === "promoted");
}

export function nextVersion(manifest: Manifest, slot: AdapterSlot): number {
  return Math.max(0, ...adaptersOf(manifest, slot).map((a) => a.version)) + 1;
}

/** The slot in words, for messages: "smollm2 / task:topic / tenant acme". */
export function describeSlot(slot: AdapterSlot): string {
  return `${slot.baseModel} / ${slot.taskClass ?? "every task class"}${slot.tenant === undefined ? "" : ` / tenant ${slot.tenant}`}`;
}

export interface AdapterChange {
  promoted: AdapterEntry | null;
  /** The adapter that was promoted before, now retired. */
  previous: AdapterEntry | null;
}

/** Pins a new adapter entry (promoted: the one promoted before is retired); refuses an id already pinned. */
export function pinAdapter(manifestPath: string, entry: AdapterEntry, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  if ((manifest.adapters ?? []).some((a) => a.id === entry.id)) throw new AdapterRegistryError(`an adapter with id ${entry.id} is already pinned`);
  const previous = entry.status === "promoted" ? promotedOf(manifest, entry) ?? null : null;
  const pinned: AdapterEntry = entry.status === "promoted" ? { ...entry, promotedAt: entry.promotedAt ?? now.toISOString() } : entry;
  manifest.adapters = (manifest.adapters ?? []).map((a) => (a === previous ? { ...a, status: "retired" as const } : a));
  manifest.adapters.push(pinned);
  saveManifest(manifestPath, manifest);
  return { promoted: pinned.status === "promoted" ? pinned : null, previous };
}

/** Promotes a pinned adapter; the one promoted before in the same slot is retired. */
export function promoteAdapter(manifestPath: string, id: string, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  const target = (manifest.adapters ?? []).find((a) => a.id === id);
  if (!target) throw new AdapterRegistryError(`no adapter with id ${id} is pinned`);
  if (target.status === "promoted") return { promoted: target, previous: null };
  const previous = promotedOf(manifest, target) ?? null;
  const promoted: AdapterEntry = { ...target, status: "promoted", promotedAt: now.toISOString() };
  delete promoted.rolledBackAt;
  manifest.adapters = manifest.adapters!.map((a) => (a.id === id ? promoted : a === previous ? { ...a, status: "retired" as const } : a));
  saveManifest(manifestPath, manifest);
  return { promoted, previous };
}

/**
 * Undoes the last promotion in a slot: the promoted adapter is retired and marked rolled
 * back, and the adapter promoted before it (the latest earlier promotion not itself rolled back) is promoted
 * again; with none, the class goes back to the base model alone.
 */
export function rollbackAdapter(manifestPath: string, slot: AdapterSlot, now: Date = new Date()): AdapterChange {
  const manifest = loadManifest(manifestPath);
  const current = promotedOf(manifest, slot);
  if (!current) throw new AdapterRegistryError(`no adapter is promoted for ${describeSlot(slot)}`);
  const earlier = adaptersOf(manifest, slot)
    .filter((a) => a.status === "retired" && a.promotedAt !== undefined && a.rolledBackAt === undefined && a.promotedAt <= (current.promotedAt ?? now.toISOString()))
    .sort((x, y) => (x.promotedAt! < y.promotedAt! ? -1 : 1))
    .at(-1);
  const promoted = earlier ? { ...earlier, status: "promoted" as const, promotedAt: now.toISOString() } : null;
  const retired: AdapterEntry = { ...current, status: "retired", rolledBackAt: now.toISOString() };
  manifest.adapters = manifest.adapters!.map((a) => (a.id === current.id ? retired : earlier && a.id === earlier.id ? promoted! : a));
  saveManifest(manifestPath, manifest);
  return { promoted, previous: retired };
}
