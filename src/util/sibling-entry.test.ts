import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { childProcessEntry, COMPILED_SOURCE_ENV, siblingEntry } from "./sibling-entry.js";

const sourceRoot = join(import.meta.dirname, "..");
const callerTs = pathToFileURL(join(sourceRoot, "inference", "llama", "model-host.ts")).href;
const saved = process.env[COMPILED_SOURCE_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[COMPILED_SOURCE_ENV];
  else process.env[COMPILED_SOURCE_ENV] = saved;
});

describe("the entry of a process Atomic starts", () => {
  it("is the compiled sibling, with no loader, when the caller is compiled", () => {
    const entry = siblingEntry("file:///opt/atomic/dist/inference/llama/model-host.js", "child");
    expect(entry).toEqual({ url: new URL("file:///opt/atomic/dist/inference/llama/child.js"), needsLoader: false });
  });

  it("is the TypeScript sibling through tsx when the caller is source and no compiled copy is named", () => {
    delete process.env[COMPILED_SOURCE_ENV];
    const entry = childProcessEntry(callerTs, "child");
    expect(entry.path).toBe(join(sourceRoot, "inference", "llama", "child.ts"));
    expect(entry.execArgv).toEqual(["--import", import.meta.resolve("tsx")]);
  });

  it("is the same module in the compiled copy when one is named and holds it, else the TypeScript", () => {
    const copy = mkdtempSync(join(tmpdir(), "atomic-sibling-"));
    process.env[COMPILED_SOURCE_ENV] = copy;
    expect(siblingEntry(callerTs, "child").needsLoader).toBe(true);
    mkdirSync(join(copy, "inference", "llama"), { recursive: true });
    writeFileSync(join(copy, "inference", "llama", "child.js"), "");
    const entry = childProcessEntry(callerTs, "child");
    expect(entry).toEqual({ path: join(copy, "inference", "llama", "child.js"), execArgv: [] });
    rmSync(copy, { recursive: true, force: true });
  });
});
