import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { RUN_TEMP_PREFIX } from "../support/run-temp.js";

describe("the run's temp folder (test/support/run-temp.ts)", () => {
  it("holds what test files and the processes they start put in the temp directory", async () => {
    const runTemp = inject("runTemp");
    expect(runTemp.split("/").at(-1)!.startsWith(RUN_TEMP_PREFIX)).toBe(true);
    expect(statSync(runTemp).mode & 0o7777).toBe(0o1777);
    const made = await mkdtemp(join(tmpdir(), "atomic-run-temp-test-"));
    try {
      expect(dirname(made)).toBe(runTemp);
      const childTemp = execFileSync(process.execPath, ["-e", "process.stdout.write(require('node:os').tmpdir())"], { encoding: "utf8" });
      expect(childTemp).toBe(runTemp);
    } finally {
      await rm(made, { recursive: true });
    }
  });
});
