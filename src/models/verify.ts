import { existsSync } from "node:fs";
import { NotARegularFileError, sha256OfFile, type DigestProgress } from "./digest.js";
import { GgufFormatError, readGgufHeader } from "./gguf/reader.js";
import { findGgufProblems } from "./gguf/validate.js";
import { findAdapterProblems } from "./adapters/validate.js";
import type { CatalogModel } from "./catalog.js";

export interface VerifyResult {
  id: string;
  ok: boolean;
  /** Stable code: ok, model_file_missing, model_digest_mismatch or model_malformed. */
  code: string;
  detail: string;
}

/** The same checks a model host makes before loading, without loading: for `atomic models verify`. */
export async function verifyModel(model: CatalogModel, onProgress?: DigestProgress): Promise<VerifyResult> {
  if (!existsSync(model.path)) return { id: model.id, ok: false, code: "model_file_missing", detail: `${model.path} does not exist` };
  let digest: string;
  try {
    digest = await sha256OfFile(model.path, onProgress);
  } catch (error) {
    if (error instanceof NotARegularFileError) return { id: model.id, ok: false, code: "model_malformed", detail: error.message };
    throw error;
  }
  if (digest !== model.sha256) {
    return { id: model.id, ok: false, code: "model_digest_mismatch", detail: `SHA-256 is ${digest}, pinned ${model.sha256}` };
  }
  try {
    const problems = findGgufProblems(readGgufHeader(model.path));
    if (problems.length > 0) return { id: model.id, ok: false, code: "model_malformed", detail: problems.join("; ") };
  } catch (error) {
    if (error instanceof GgufFormatError) return { id: model.id, ok: false, code: "model_malformed", detail: error.message };
    throw error;
  }
  return { id: model.id, ok: true, code: "ok", detail: `sha256 ${digest}` };
}

/** An adapter's file against its pin and its base model, as the model host checks it before loading. */
export async function verifyAdapter(adapter: { id: string; path: string; sha256: string }, basePath: string | undefined): Promise<VerifyResult> {
  if (!existsSync(adapter.path)) return { id: adapter.id, ok: false, code: "adapter_file_missing", detail: `${adapter.path} does not exist` };
  let digest: string;
  try {
    digest = await sha256OfFile(adapter.path);
  } catch (error) {
    if (error instanceof NotARegularFileError) return { id: adapter.id, ok: false, code: "adapter_malformed", detail: error.message };
    throw error;
  }
  if (digest !== adapter.sha256) return { id: adapter.id, ok: false, code: "adapter_digest_mismatch", detail: `SHA-256 is ${digest}, pinned ${adapter.sha256}` };
  if (basePath === undefined) return { id: adapter.id, ok: false, code: "adapter_base_missing", detail: "its base model is not pinned" };
  try {
    const problems = findAdapterProblems(readGgufHeader(adapter.path), readGgufHeader(basePath));
    if (problems.length > 0) return { id: adapter.id, ok: false, code: "adapter_malformed", detail: problems.join("; ") };
  } catch (error) {
    if (error instanceof GgufFormatError) return { id: adapter.id, ok: false, code: "adapter_malformed", detail: error.message };
    throw error;
  }
  return { id: adapter.id, ok: true, code: "ok", detail: `sha256 ${digest}` };
}
