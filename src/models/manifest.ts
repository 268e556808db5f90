import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { CLASSIFICATIONS } from "../policy/classification.js";

export const CAPABILITIES = ["chat", "completion", "embedding"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * What one unit of work costs on a model, in the site's own unit (compute-seconds, joules, or money): bidding
 * compares models by it later, so it must be comparable across the manifest.
 */
const CostProfileSchema = z.strictObject({
  unit: z.string().min(1).max(32).default("compute-seconds"),
  per1kPromptTokens: z.number().nonnegative(),
  per1kCompletionTokens: z.number().nonnegative(),
});

export const ModelEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,63}$/, "ids use letters, digits, '.', '_', ':' and '-' (max 64)"),
  /** Relative to the manifest's folder, or absolute. */
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256"),
  sizeBytes: z.number().int().positive(),
  contextLength: z.number().int().positive(),
  capabilities: z.array(z.enum(CAPABILITIES)).min(1),
  cost: CostProfileSchema,
  /** Requests served at once (context sequences); more wait in the model's queue. */
  parallel: z.number().int().min(1).max(64).default(2),
  description: z.string().max(500).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ADAPTER_STATUSES = ["promoted", "candidate", "retired"] as const;
export type AdapterStatus = (typeof ADAPTER_STATUSES)[number];

/**
 * A GGUF LoRA adapter pinned against its base model. Per base model and task class, versions count up and at most
 * one is promoted (applied to that class's requests); candidates wait (a fit that lost its canary, or pinned for
 * later), retired ones were promoted once. See src/models/adapters/registry.ts.
 */
export const AdapterEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,127}$/, "ids use letters, digits, '.', '_', ':' and '-' (max 128)"),
  /** Relative to the manifest's folder, or absolute. */
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256"),
  sizeBytes: z.number().int().positive(),
  /** The id of the model it adapts (this manifest's or the model family's). */
  baseModel: z.string().min(1),
  /** The task class it serves (src/adaptation/task-class.ts); null: every task class of the base model. */
  taskClass: z.string().min(1).max(256).nullable(),
  /**
   * Fitted from one tenant's rated executions: it serves that tenant only, as its exemplars would. Absent: pinned by
   * an operator for every tenant.
   */
  tenant: z.string().min(1).max(128).optional(),
  /**
   * The highest data classification among the examples it was fitted on: it serves only requests classified at
   * least as high, so nothing learned from confidential data steers an answer to a public request.
   */
  classification: z.enum(CLASSIFICATIONS).optional(),
  version: z.number().int().min(1),
  /** LoRA scale applied when the adapter is loaded. */
  scale: z.number().positive().max(100).default(1),
  status: z.enum(ADAPTER_STATUSES),
  createdAt: z.iso.datetime(),
  /** When it was last promoted; a rollback returns to the latest earlier promotion not itself rolled back. */
  promotedAt: z.iso.datetime().optional(),
  rolledBackAt: z.iso.datetime().optional(),
  /** For a fitted adapter: what it was fitted on and how it did on the held-back slice. */
  fit: z.strictObject({
    labels: z.array(z.string()).min(2),
    /** The labels are this field's values in a structured answer, where it was fitted; absent: the whole answer. */
    labelField: z.string().min(1).max(64).optional(),
    examples: z.number().int().nonnegative(),
    heldBack: z.number().int().nonnegative(),
    accuracy: z.strictObject({ base: z.number(), current: z.number().nullable(), candidate: z.number() }),
  }).optional(),
  description: z.string().max(500).optional(),
});
export type AdapterEntry = z.infer<typeof AdapterEntrySchema>;

export const ManifestSchema = z.strictObject({
  version: z.literal(1),
  models: z.array(ModelEntrySchema),
  /** Absent in manifests written before adapters existed; written only when there are some. */
  adapters: z.array(AdapterEntrySchema).optional(),
}).superRefine((manifest, ctx) => {
  const seen = new Set<string>();
  manifest.models.forEach((m, i) => {
    if (seen.has(m.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id ${m.id}` });
    seen.add(m.id);
  });
  const adapterIds = new Set<string>();
  const promoted = new Set<string>();
  const versions = new Set<string>();
  (manifest.adapters ?? []).forEach((a, i) => {
    if (adapterIds.has(a.id)) ctx.addIssue({ code: "custom", path: ["adapters", i, "id"], message: `duplicate adapter id ${a.id}` });
    adapterIds.add(a.id);
    const slot = `${a.baseModel}\u0000${a.tenant ?? ""}\u0000${a.taskClass ?? ""}`;
    if (versions.has(`${slot}\u0000${a.version}`)) ctx.addIssue({ code: "custom", path: ["adapters", i, "version"], message: `version ${a.version} of ${a.baseModel} / ${a.taskClass ?? "any task"} is pinned twice` });
    versions.add(`${slot}\u0000${a.version}`);
    if (a.status !== "promoted") return;
    if (promoted.has(slot)) ctx.addIssue({ code: "custom", path: ["adapters", i, "status"], message: `two adapters are promoted for ${a.baseModel} / ${a.taskClass ?? "any task"}` });
    promoted.add(slot);
  });
});
export type Manifest = z.infer<typeof ManifestSchema>;

export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

export function loadManifest(path: string): Manifest {
  if (!existsSync(path)) return { version: 1, models: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ManifestError(`model manifest ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(`model manifest ${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Writes via a temporary file and rename, so a crash never leaves a half-written manifest. */
export function saveManifest(path: string, manifest: Manifest): void {
  const checked = ManifestSchema.parse(manifest);
  if (checked.adapters?.length === 0) delete checked.adapters;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, path);
}

export function modelFilePath(manifestPath: string, entry: Pick<ModelEntry | AdapterEntry, "file">): string {
  return isAbsolute(entry.file) ? entry.file : resolve(dirname(manifestPath), entry.file);
}
