import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { COMPILED_SOURCE_ENV, siblingEntry } from "../../src/util/sibling-entry.js";

describe("the run's build (test/support/test-build.ts)", () => {
  it("is where Atomic's child processes start from, without tsx, and holds the command line", () => {
    const compiled = process.env[COMPILED_SOURCE_ENV];
    expect(compiled, "the global setup names the build for every process it starts").toBeDefined();
    const entry = siblingEntry(pathToFileURL(join(import.meta.dirname, "..", "..", "src", "inference", "llama", "model-host.ts")).href, "child");
    expect(entry.needsLoader).toBe(false);
    expect(fileURLToPath(entry.url)).toBe(join(compiled!, "inference", "llama", "child.js"));
    expect(inject("atomicCli")).toBe(join(compiled!, "cli", "main.js"));
  });
});
