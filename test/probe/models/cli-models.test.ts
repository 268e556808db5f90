import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../../support/provided-context.js";
import { saveManifest, type ModelEntry } from "../../../src/models/manifest.js";
import { buildTestModel } from "../../../src/models/test-model.js";
import { readGgufHeader } from "../../../src/models/gguf/reader.js";
import { VerifiedAdapters } from "../../../src/inference/llama/adapter-files.js";

interface Run { code: number | null; stdout: string; stderr: string; timedOut: boolean; ms: number }

/** Runs `atomic` in its own process; kills it (by its pid) after `limitMs`. */
function atomic(args: string[], env: Record<string, string> = {}, limitMs = 15_000): Promise<Run> {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, [inject("atomicCli"), ...args], { env: { ...process.env, ...env }, cwd: dir });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => { timedOut = true; if (child.pid) process.kill(child.pid, "SIGKILL"); }, limitMs);
    child.on("exit", (code) => { clearTimeout(timer); done({ code, stdout, stderr, timedOut, ms: Date.now() - started }); });
  });
}

let dir: string;
const entry = (id: string, file: string): ModelEntry => ({
  id, file, sha256: "a".repeat(64), sizeBytes: 1000, contextLength: 4096, capabilities: ["completion"],
  cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 1 }, parallel: 1,
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-probe-cli-"));
  mkdirSync(join(dir, "models"));
  writeFileSync(join(dir, "models", "tiny.gguf"), buildTestModel({ seed: 11 }));
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify({ models: { manifest: join(dir, "models", "manifest.json"), family: "" } }));
  execFileSync("mkfifo", [join(dir, "pipe.gguf")]);
  saveManifest(join(dir, "zero.json"), { version: 1, models: [entry("zero", "/dev/zero")] });
  saveManifest(join(dir, "fifo.json"), { version: 1, models: [entry("fifo", join(dir, "pipe.gguf"))] });
});
afterAll(() => undefined);

const STACK = /\n\s+at /;

describe("atomic models add: option values the manifest refuses", () => {
  for (const [what, extra] of [
    ["--parallel 0", ["--parallel", "0"]],
    ["--parallel 65", ["--parallel", "65"]],
    ["--parallel 1.5", ["--parallel", "1.5"]],
    ["--id with a slash", ["--id", "../../etc/passwd"]],
    ["--cost-unit too long", ["--cost-unit", "x".repeat(40), "--cost-prompt", "1"]],
    ["--description too long", ["--description", "d".repeat(600)]],
  ] as const) {
    it(`refuses ${what} in one line, without a stack trace`, async () => {
      const run = await atomic(["models", "add", "models/tiny.gguf", "--id", "t", ...extra]);
      expect(run.code === 1 || run.code === 2).toBe(true);
      expect(run.stderr, run.stderr).not.toMatch(STACK);
    });
  }
});

describe("a pinned path that is not a regular file", () => {
  it("atomic models verify refuses a manifest entry on /dev/zero instead of hashing forever", async () => {
    const run = await atomic(["models", "verify"], { ATOMIC_MODELS_MANIFEST: join(dir, "zero.json") }, 15_000);
    expect(run.timedOut, `still hashing /dev/zero after ${run.ms} ms`).toBe(false);
    expect(run.code).toBe(1);
  }, 30_000);

  it("atomic models verify refuses a manifest entry on a FIFO instead of blocking forever", async () => {
    const run = await atomic(["models", "verify"], { ATOMIC_MODELS_MANIFEST: join(dir, "fifo.json") }, 15_000);
    expect(run.timedOut, `blocked opening the FIFO after ${run.ms} ms`).toBe(false);
    expect(run.code).toBe(1);
  }, 30_000);

  it("atomic models add refuses a FIFO instead of blocking forever", async () => {
    const run = await atomic(["models", "add", join(dir, "pipe.gguf"), "--id", "p"], {}, 15_000);
    expect(run.timedOut, `blocked opening the FIFO after ${run.ms} ms`).toBe(false);
    expect(run.code).toBe(1);
  }, 30_000);

  // Last: the hash of /dev/zero cannot be cancelled and runs on until this file's process ends.
  it("a model host's adapter check refuses an adapter pinned on /dev/zero", async () => {
    const adapters = new VerifiedAdapters(readGgufHeader(join(dir, "models", "tiny.gguf")));
    const outcome = await Promise.race([
      adapters.pathFor({ id: "zero", path: "/dev/zero", sha256: "a".repeat(64) }).then(() => "loaded", (e: Error) => `refused: ${e.message}`),
      new Promise<string>((r) => setTimeout(() => r("still hashing after 5 s"), 5_000)),
    ]);
    expect(outcome).toMatch(/^refused/);
  }, 30_000);
});
