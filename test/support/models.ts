import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { saveManifest, type ModelEntry } from "../../src/models/manifest.js";
import { buildTestModel, type TestModelOptions } from "../../src/models/test-model.js";

export interface TestModelSpec {
  id: string;
  options?: TestModelOptions;
  parallel?: number;
  capabilities?: ModelEntry["capabilities"];
  cost?: ModelEntry["cost"];
}

export interface TestModels {
  dir: string;
  manifestPath: string;
  entries: ModelEntry[];
  pathOf(id: string): string;
}

/** Generates random-weight GGUF models into a fresh folder and pins them in a manifest there. */
export function writeTestModels(specs: TestModelSpec[]): TestModels {
  const dir = mkdtempSync(join(tmpdir(), "atomic-models-"));
  const entries = specs.map((spec): ModelEntry => {
    const bytes = buildTestModel(spec.options ?? {});
    const file = `${spec.id}.gguf`;
    writeFileSync(join(dir, file), bytes);
    return {
      id: spec.id,
      file,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sizeBytes: bytes.length,
      contextLength: spec.options?.contextLength ?? 4096,
      capabilities: spec.capabilities ?? ["chat", "completion", "embedding"],
      cost: spec.cost ?? { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 },
      parallel: spec.parallel ?? 2,
    };
  });
  const manifestPath = join(dir, "manifest.json");
  saveManifest(manifestPath, { version: 1, models: entries });
  return { dir, manifestPath, entries, pathOf: (id) => join(dir, `${id}.gguf`) };
}
