import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { locatePostgresBinaries } from "./binaries.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "atomic-pg-bin-test-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fakeInstall(version: string, programs = ["initdb", "postgres"]): Promise<string> {
  const binDir = join(root, version, "bin");
  await mkdir(binDir, { recursive: true });
  for (const program of programs) {
    await writeFile(join(binDir, program), "#!/bin/sh\n");
    await chmod(join(binDir, program), 0o755);
  }
  return binDir;
}

describe("locatePostgresBinaries", () => {
  it("picks the highest installed version, compared as numbers", async () => {
    await fakeInstall("9");
    const newest = await fakeInstall("15");
    expect(locatePostgresBinaries({ searchRoot: root, env: {} }).binDir).toBe(newest);
  });

  it("passes over an installation that lacks the server", async () => {
    const complete = await fakeInstall("14");
    await fakeInstall("16", ["initdb"]);
    expect(locatePostgresBinaries({ searchRoot: root, env: {} }).binDir).toBe(complete);
  });

  it("prefers the option, then ATOMIC_PG_BIN_DIR, over the search", async () => {
    const chosen = await fakeInstall("12");
    const fromEnv = await fakeInstall("13");
    await fakeInstall("15");
    const env = { ATOMIC_PG_BIN_DIR: fromEnv };
    expect(locatePostgresBinaries({ binDir: chosen, searchRoot: root, env }).binDir).toBe(chosen);
    expect(locatePostgresBinaries({ searchRoot: root, env }).binDir).toBe(fromEnv);
  });

  it("refuses an explicit folder without the binaries instead of falling back to another version", async () => {
    await fakeInstall("15");
    expect(() => locatePostgresBinaries({ binDir: join(root, "nowhere"), searchRoot: root, env: {} })).toThrow(
      /no executable initdb and postgres in .*nowhere/,
    );
  });

  it("says what to install or set when nothing is found", () => {
    expect(() => locatePostgresBinaries({ searchRoot: root, env: {} })).toThrow(
      /install the postgresql Debian package.*ATOMIC_PG_BIN_DIR.*DATABASE_URL/,
    );
  });
});
