import { statSync } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { sha256OfFile, type DigestProgress } from "./digest.js";
import { GgufFormatError, metadataNumber, metadataString, readGgufHeader } from "./gguf/reader.js";
import { findGgufProblems } from "./gguf/validate.js";
import { loadManifest, ModelEntrySchema, saveManifest, type Capability, type ModelEntry } from "./manifest.js";

export interface AddModelOptions {
  manifestPath: string;
  file: string;
  id?: string;
  capabilities?: Capability[];
  cost?: ModelEntry["cost"];
  parallel?: number;
  description?: string;
  /** Replace an entry with the same id instead of refusing. */
  replace?: boolean;
  onProgress?: DigestProgress;
}

export class AddModelError extends Error {
  override readonly name = "AddModelError";
}

/** Checks that a GGUF file is loadable, hashes it, and pins it in the manifest. */
export async function addModel(options: AddModelOptions): Promise<ModelEntry> {
  const file = resolve(options.file);
  let header;
  try {
    header = readGgufHeader(file);
  } catch (error) {
    if (error instanceof GgufFormatError) throw new AddModelError(`${file} is not a usable GGUF file: ${error.message}`);
    throw new AddModelError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const problems = findGgufProblems(header);
  if (problems.length > 0) throw new AddModelError(`${file} would not load: ${problems.join("; ")}`);

  const arch = metadataString(header, "general.architecture")!;
  const contextLength = metadataNumber(header, `${arch}.context_length`)!;
  const id = options.id ?? basename(file).replace(/\.gguf$/i, "").replace(/[^a-zA-Z0-9._:-]/g, "-").slice(0, 64);
  const manifest = loadManifest(options.manifestPath);
  const existing = manifest.models.findIndex((m) => m.id === id);
  if (existing >= 0 && !options.replace) throw new AddModelError(`a model with id ${id} is already pinned (use --replace)`);

  const folder = dirname(resolve(options.manifestPath));
  const inside = file.startsWith(folder + sep);
  const unhashed: ModelEntry = {
    id,
    file: inside ? relative(folder, file) : file,
    sha256: "0".repeat(64),
    sizeBytes: statSync(file).size,
    contextLength,
    capabilities: options.capabilities ?? ["chat", "completion", "embedding"],
    cost: options.cost ?? { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 1 },
    parallel: options.parallel ?? 2,
    ...(options.description ? { description: options.description } : {}),
  };
  // Checked before hashing, which takes minutes for a large model: a value the manifest refuses is one line now.
  const checked = ModelEntrySchema.safeParse(unhashed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new AddModelError(`${String(issue.path[0] ?? "entry")}: ${issue.message}`);
  }
  const entry: ModelEntry = { ...unhashed, sha256: await sha256OfFile(file, options.onProgress) };
  if (existing >= 0) manifest.models[existing] = entry;
  else manifest.models.push(entry);
  saveManifest(options.manifestPath, manifest);
  return entry;
}
