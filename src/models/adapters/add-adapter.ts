import { statSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { sha256OfFile } from "../digest.js";
import { GgufFormatError, readGgufHeader } from "../gguf/reader.js";
import { loadManifest, type AdapterEntry } from "../manifest.js";
import { nextVersion, pinAdapter, type AdapterChange } from "./registry.js";
import { findAdapterProblems } from "./validate.js";

export interface AddAdapterOptions {
  manifestPath: string;
  file: string;
  /** The model it adapts, with its file (its header is what the adapter is checked against). */
  baseModel: { id: string; path: string };
  taskClass: string | null;
  id?: string;
  scale?: number;
  /** Pin without putting it in service (default: promoted, retiring the adapter promoted before). */
  candidate?: boolean;
  description?: string;
}

export class AddAdapterError extends Error {
  override readonly name = "AddAdapterError";
}

/**
 * Checks that a GGUF file is a LoRA adapter llama.cpp will apply to the base model (names and shapes of every
 * pair against the base's tensors; see validate.ts), hashes it and pins it in the manifest as the next version for
 * its base model and task class.
 */
export async function addAdapter(options: AddAdapterOptions): Promise<{ entry: AdapterEntry; change: AdapterChange }> {
  const file = resolve(options.file);
  const adapterHeader = readHeader(file, "the adapter");
  const baseHeader = readHeader(options.baseModel.path, `base model ${options.baseModel.id}`);
  const problems = findAdapterProblems(adapterHeader, baseHeader);
  if (problems.length > 0) throw new AddAdapterError(`${file} is not a LoRA adapter for ${options.baseModel.id}: ${problems.join("; ")}`);

  const manifest = loadManifest(options.manifestPath);
  const version = nextVersion(manifest, { baseModel: options.baseModel.id, taskClass: options.taskClass });
  const id = options.id ?? `${options.baseModel.id}.${options.taskClass === null ? "any" : options.taskClass.replace(/[^a-zA-Z0-9._-]+/g, "-")}.v${version}`.slice(0, 128);
  const folder = dirname(resolve(options.manifestPath));
  const entry: AdapterEntry = {
    id,
    file: file.startsWith(folder + sep) ? relative(folder, file) : file,
    sha256: await sha256OfFile(file),
    sizeBytes: statSync(file).size,
    baseModel: options.baseModel.id,
    taskClass: options.taskClass,
    version,
    scale: options.scale ?? 1,
    status: options.candidate ? "candidate" : "promoted",
    createdAt: new Date().toISOString(),
    ...(options.description ? { description: options.description } : {}),
  };
  try {
    return { entry, change: pinAdapter(options.manifestPath, entry) };
  } catch (error) {
    throw new AddAdapterError((error as Error).message);
  }
}

function readHeader(path: string, what: string) {
  try {
    return readGgufHeader(path);
  } catch (error) {
    if (error instanceof GgufFormatError) throw new AddAdapterError(`${what} (${path}) is not a usable GGUF file: ${error.message}`);
    throw new AddAdapterError(`cannot read ${what} (${path}): ${(error as Error).message}`);
  }
}
