import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadManifest, ManifestError, modelFilePath, type ModelEntry } from "./manifest.js";
import { buildTestModel, TEST_MODEL_LABEL } from "./test-model.js";

/** A manifest entry with its file resolved: what the inference engine is given to load. */
export interface CatalogModel extends ModelEntry {
  path: string;
  /** True for the generated random-weight model served when no manifest pins a model. */
  testModel: boolean;
}

export const TEST_MODEL_ID = "atomic-test-random";

export interface CatalogOptions {
  /** The site's own pins (`atomic models add`). */
  manifestPath: string;
  /**
   * The installed model family's manifest (scripts/install-models.ts), served after the site's models. Optional by
   * nature: a missing manifest means the family is not installed, and a family model whose file is gone is left out.
   */
  familyManifestPath?: string;
  dataDir: string;
  /** Serve the generated test model when no manifest pins a model. */
  testModelWhenEmpty: boolean;
  /** Told about each family model left out, and why. */
  onOmitted?: (model: ModelEntry, reason: string) => void;
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
    // Measured on the 2-vCPU build machine at one thread (npm run bench:models), as the family's costs are.
    cost: { unit: "compute-seconds", per1kPromptTokens: 0.02, per1kCompletionTokens: 0.5 },
    parallel: 2,
    description: TEST_MODEL_LABEL,
    testModel: true,
  };
}

export function loadCatalog(options: CatalogOptions): CatalogModel[] {
  const site = loadManifest(options.manifestPath).models.map((m) => ({ ...m, path: modelFilePath(options.manifestPath, m), testModel: false }));
  const family = options.familyManifestPath ? loadFamily(options.familyManifestPath, options.onOmitted) : [];
  for (const model of family) {
    if (site.some((m) => m.id === model.id)) {
      throw new ManifestError(`model id ${model.id} is pinned both in ${options.manifestPath} and in the model family's ${options.familyManifestPath}; rename one`);
    }
  }
  const models = [...site, ...family];
  if (models.length === 0 && options.testModelWhenEmpty) return [ensureTestModel(options.dataDir)];
  return models;
}

function loadFamily(manifestPath: string, onOmitted: CatalogOptions["onOmitted"]): CatalogModel[] {
  const models: CatalogModel[] = [];
  for (const entry of loadManifest(manifestPath).models) {
    const path = modelFilePath(manifestPath, entry);
    // The file's digest is checked by its model host before every load; here only whether it is there at all.
    if (!existsSync(path)) onOmitted?.(entry, `${path} is missing (reinstall with npm run models:install)`);
    else models.push({ ...entry, path, testModel: false });
  }
  return models;
}
