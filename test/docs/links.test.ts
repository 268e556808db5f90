import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const CHECK = resolve("scripts/check-docs.mjs");

function check(root?: string): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, root === undefined ? [CHECK] : [CHECK, root], { encoding: "utf8" });
  return { status: run.status, lines: run.stdout.split("\n").filter((line) => line !== "") };
}

describe("documentation links", () => {
  const scratch = mkdtempSync(join(tmpdir(), "atomic-docs-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("every relative link and anchor in README.md and docs/*.md resolves", () => {
    const { status, lines } = check();
    expect(lines).toEqual([]);
    expect(status).toBe(0);
  });

  // The check itself, on pages broken on purpose: without this the test above would pass for a check that sees nothing.
  it("names each missing file and each anchor with no heading, and fails", () => {
    mkdirSync(join(scratch, "docs"));
    writeFileSync(
      join(scratch, "README.md"),
      "# Atomic\n\n## Try it (now)\n\n[here](#try-it-now) [gone](#gone) [page](docs/page.md#intro) [none](docs/none.md)\n\n```\n[code](not-a-link.md)\n```\n",
    );
    writeFileSync(join(scratch, "docs", "page.md"), "# Page\n\n## Intro\n\n[back](../README.md#try-it-now) [wrong](../README.md#try-it)\n");
    const { status, lines } = check(scratch);
    expect(lines).toEqual([
      "README.md:5: #gone: no heading with this anchor",
      "README.md:5: docs/none.md: no such file",
      "docs/page.md:5: ../README.md#try-it: no heading with this anchor",
    ]);
    expect(status).toBe(1);
  });
});
