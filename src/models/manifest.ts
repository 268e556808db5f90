import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";

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

export const ManifestSchema = z.strictObject({
  version: z.literal(1),
  models: z.array(ModelEntrySchema),
}).superRefine((manifest, ctx) => {
  const seen = new Set<string>();
  manifest.models.forEach((m, i) => {
    if (seen.has(m.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id ${m.id}` });
    seen.add(m.id);
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
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, path);
}

export function modelFilePath(manifestPath: string, entry: Pick<ModelEntry, "file">): string {
  return isAbsolute(entry.file) ? entry.file : resolve(dirname(manifestPath), entry.file);
}
