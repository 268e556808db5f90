/**
 * The bundle builder's model rules (deploy/bundle/models.mjs), on small trees: which pinned models --models names,
 * what the bundle is called then, and that only the chosen model files, with their pinned bytes, may be in it.
 * A carried model changed after signing is refused by the installer: see the tamper cases of offline-install.test.ts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertOnlyCarriedModels, chooseModels, nameSuffix, parseFamilyPins, type PinnedModel } from "../../deploy/bundle/models.mjs";
import { REPO } from "./support/bundles.js";

const pins = parseFamilyPins(readFileSync(join(REPO, "models", "family.json"), "utf8"), "models/family.json");
const ids = pins.map((m) => m.id);

/** A stand-in for a pinned model, pinned to bytes the test writes. */
function fakeModel(id: string, bytes: string): PinnedModel {
  return { ...pins[0]!, id, file: `${id}.gguf`, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length };
}

describe("--models", () => {
  it("names the whole family, or pinned models by id, in the pins' order", () => {
    expect(chooseModels(undefined, pins)).toEqual([]);
    expect(chooseModels("family", pins).map((m) => m.id)).toEqual(ids);
    expect(chooseModels(`${ids[2]}, ${ids[0]}`, pins).map((m) => m.id)).toEqual([ids[0], ids[2]]);
  });

  it("refuses an id the pins do not hold, naming those they do, and an empty list", () => {
    expect(() => chooseModels(`${ids[0]},llama-70b`, pins)).toThrow(new RegExp(`--models llama-70b: not pinned in models/family.json \\(pinned: ${ids.join(", ")}`));
    expect(() => chooseModels(",", pins)).toThrow(/--models names no model/);
  });

  it("names the bundle after what it carries", () => {
    expect(nameSuffix([], pins)).toBe("");
    expect(nameSuffix(pins, pins)).toBe("+family");
    expect(nameSuffix(chooseModels(`${ids[0]},${ids[2]}`, pins), pins)).toBe(`+${ids[0]}+${ids[2]}`);
  });
});

describe("model files in a bundle", () => {
  let root: string;
  const chat = fakeModel("chat", "GGUF chat weights");

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "atomic-bundle-models-"));
    mkdirSync(join(root, "models"), { recursive: true });
    mkdirSync(join(root, "app", "models"), { recursive: true });
    writeFileSync(join(root, "app", "models", "manifest.json"), '{"version":1,"models":[]}\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("are allowed exactly as carried: at models/<file>, with the pinned digest", async () => {
    writeFileSync(join(root, "models", chat.file), "GGUF chat weights");
    await expect(assertOnlyCarriedModels(root, [chat])).resolves.toBeUndefined();
  });

  it("are refused anywhere else, and whenever none was asked for", async () => {
    writeFileSync(join(root, "app", "models", "stray.GGUF"), "GGUF");
    await expect(assertOnlyCarriedModels(root, [])).rejects.toThrow(/app\/models\/stray\.GGUF is a model file the bundle was not asked to carry/);
  });

  it("are refused when their bytes are not the pinned ones", async () => {
    writeFileSync(join(root, "models", chat.file), "GGUF chat weights, changed");
    await expect(assertOnlyCarriedModels(root, [chat])).rejects.toThrow(new RegExp(`models/chat\\.gguf has SHA-256 [0-9a-f]{64}; models/family\\.json pins ${chat.sha256} for chat`));
  });

  it("must all be there", async () => {
    await expect(assertOnlyCarriedModels(root, [chat])).rejects.toThrow(/the bundle lacks models\/chat\.gguf/);
  });
});
