import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { inject } from "vitest";
import { loadManifest, modelFilePath, saveManifest, type ModelEntry } from "../../src/models/manifest.js";
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
  return writeModelFamily([], specs);
}

/**
 * A manifest of real models from the installed family (the global setup installs it; ids as in models/family.json),
 * listed first and in the order given, followed by generated random-weight models.
 */
export function writeModelFamily(realIds: string[], generated: TestModelSpec[] = []): TestModels {
  // Only asked for when needed: the benchmarks generate models outside vitest, where there is nothing to inject.
  const familyManifest = realIds.length > 0 ? inject("familyManifest") : "";
  const installed = realIds.length > 0 ? loadManifest(familyManifest).models : [];
  const real = realIds.map((id): ModelEntry => {
    const entry = installed.find((m) => m.id === id);
    if (entry === undefined) throw new Error(`the model family at ${familyManifest} has no ${id}; is it pinned in models/family.json?`);
    return { ...entry, file: modelFilePath(familyManifest, entry) };
  });
  const dir = mkdtempSync(join(tmpdir(), "atomic-models-"));
  const entries = generated.map((spec): ModelEntry => {
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
  const all = [...real, ...entries];
  saveManifest(manifestPath, { version: 1, models: all });
  return { dir, manifestPath, entries: all, pathOf: (id) => modelFilePath(manifestPath, all.find((m) => m.id === id) ?? { file: `${id}.gguf` }) };
}
