import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every benchmark script runs once here, in a smoke mode (a handful of iterations), so that one that breaks fails
 * the test command instead of waiting for the next person who measures: `bench:tasks` once failed for weeks on
 * encrypted payloads, `bench:policy` on a small request count. Only that the script runs to the end and prints its
 * sections is checked; the figures of a smoke run mean nothing and are never asserted.
 */
const repoRoot = resolve(import.meta.dirname, "..", "..");

interface Run {
  code: number;
  output: string;
}

function run(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ["--import", import.meta.resolve("tsx"), join(repoRoot, script), ...args], {
      cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 16 << 20, timeout: 240_000,
    }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` }));
  });
}

async function smoke(script: string, env: Record<string, string>, sections: RegExp[], args: string[] = []): Promise<void> {
  const { code, output } = await run(script, args, env);
  expect(code, output.slice(-4000)).toBe(0);
  for (const section of sections) expect(output).toMatch(section);
}

describe("benchmarks in smoke mode", { timeout: 300_000 }, () => {
  it("bench (gateway): throughput ratio, added latency against the durable floor, throughput at 32", () =>
    smoke("test/bench/gateway.ts", { BENCH_SMOKE: "1", BENCH_ROUNDS: "1", BENCH_REQUESTS: "30" }, [
      /1\. generation throughput/, /ratio/, /2\. added latency/, /durable floor .*fdatasync/, /durable added p50 .* = floor p50/, /gateway code alone/,
      /3\. throughput at concurrency 32/, /requests\/s .*p99/,
    ]));

  // Measures whichever peers are installed (npm run peers:install); without them, Atomic and the mock alone.
  it("bench:peers: Atomic side by side with LiteLLM and Portkey over a mock upstream", () =>
    smoke("test/bench/peers.ts", { BENCH_SMOKE: "1" }, [/mock upstream \(direct\)/, /Atomic .* ms/, /(not installed|Atomic ÷ the faster peer)/]));

  it("bench:tasks: the Temporal path against the direct one", () =>
    smoke("test/bench/tasks.ts", { BENCH_TASKS_SEQUENTIAL: "2", BENCH_TASKS_CONCURRENT: "3" }, [/added by Temporal/, /tasks\/s/]));

  it("bench:audit: appends, proofs, export and verify", () =>
    smoke("test/bench/audit.ts", { BENCH_AUDIT_APPENDS: "20", BENCH_AUDIT_LOG: "1000", BENCH_AUDIT_BACKLOG: "500" }, [/verify .*OK/]));

  it("bench:policy: decisions and redaction", () =>
    smoke("test/bench/policy.ts", { BENCH_POLICY_DECISIONS: "300" }, [/policy decisions/, /allowedModels/, /redaction/]));

  it("bench:routing: replay and CPU per routing step", () =>
    smoke("test/bench/routing.ts", { BENCH_SMOKE: "1" }, [/1\. replay/, /4\. CPU per routing step/], ["--tables", "synthetic", "--seeds", "1", "--tasks", "300", "--out", mkdtempSync(join(tmpdir(), "atomic-routing-smoke-"))]));

  it("bench:metrics: recording cost per request and scrape time", () =>
    smoke("test/bench/metrics.ts", { BENCH_SMOKE: "1" }, [/1\. recording cost per request/, /added: /, /2\. scrape \(/]));

  it("bench:models: compute-seconds per token of every model", () =>
    smoke("test/bench/models.ts", { BENCH_SMOKE: "1" }, [/compute-seconds per 1,000 tokens/, /atomic-test-random/]));

  it("adapters: switch cost, fitting and the accuracy of fitted adapters", () =>
    smoke("test/bench/adapters.ts", { BENCH_ADAPTERS_MODEL: "generated" }, [/1\. adapter switch cost/, /2\. fitting/, /3\. accuracy lift/, /4\. the fit alone/]));

  it("eval: the harness end to end on the generated model, and model \"auto\" learning from its verdicts", () =>
    smoke("test/eval/run.ts", {}, [/atomic eval/, /all /, /model "auto", learning online/, /auto: logistic-ts /, /\.jsonl \(replay: npm run bench:routing/], [
      "--models", "atomic-test-random", "--per-kind", "1", "--auto", "logistic-ts", "--out", mkdtempSync(join(tmpdir(), "atomic-eval-smoke-")),
    ]));
});
