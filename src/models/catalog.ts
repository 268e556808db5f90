import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadManifest, modelFilePath, type ModelEntry } from "./manifest.js";
import { buildTestModel, TEST_MODEL_LABEL } from "./test-model.js";

/** A manifest entry with its file resolved: what the inference engine is given to load. */
export interface CatalogModel extends ModelEntry {
  path: string;
  /** True for the generated random-weight model served when the manifest is empty. */
  testModel: boolean;
}

export const TEST_MODEL_ID = "atomic-test-random";

export interface CatalogOptions {
  manifestPath: string;
  dataDir: string;
  /** Serve the generated test model when the manifest pins nothing. */
  testModelWhenEmpty: boolean;
}

/**
 * Writes the random-weight test model into the data directory (named by its digest, so a stale or tampered file
 * is never mistaken for the current one) and returns its catalog entry.
 */
export function ensureTestModel(dataDir: string): CatalogModel {
  const bytes = buildTestModel({ seed: 1 });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const folder = join(dataDir, "models");
  const path = join(folder, `${TEST_MODEL_ID}-${sha256.slice(0, 12)}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(path, bytes, { mode: 0o444 });
  }
  return {
    id: TEST_MODEL_ID,
    file: path,
    path,
    sha256,
    sizeBytes: bytes.length,
    contextLength: 4096,
    capabilities: ["chat", "completion", "embedding"],
    cost: { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 },
    parallel: 2,
    description: TEST_MODEL_LABEL,
    testModel: true,
  };
}

export function loadCatalog(options: CatalogOptions): CatalogModel[] {
  const manifest = loadManifest(options.manifestPath);
  const models = manifest.models.map((m) => ({ ...m, path: modelFilePath(options.manifestPath, m), testModel: false }));
  if (models.length === 0 && options.testModelWhenEmpty) return [ensureTestModel(options.dataDir)];
  return models;
}
