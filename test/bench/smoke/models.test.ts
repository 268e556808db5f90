import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, inject, it } from "vitest";
import { examTable } from "../routing-tables.js";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("model, routing and adaptation benchmarks in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  it("bench:routing: replay and CPU per routing step", () =>
    smoke("test/bench/routing.ts", { BENCH_SMOKE: "1" }, [/1\. replay/, /over 2 orders/, /4\. CPU per routing step/], ["--tables", "synthetic", "--seeds", "1", "--tasks", "300", "--orders", "2", "--out", mkdtempSync(join(tmpdir(), "atomic-routing-smoke-"))]));

  it("bench:routing --features embedding: a table's prompts embedded by the family's embedding model, then replayed", () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-routing-embedding-smoke-"));
    const table = join(dir, "exam.jsonl");
    writeFileSync(table, examTable(7, 40).flatMap((item) => ["weak", "strong"].map((model, i) =>
      JSON.stringify({ task: item.id, model, success: item.success[i], cost: i === 0 ? 1 : 100, latency_ms: 10, prompt: item.prompt }))).join("\n"));
    return smoke("test/bench/routing.ts", { BENCH_SMOKE: "1" }, [/40 prompts embedded by minilm-l6-v2/, /engine: logistic on embedding features/, /1\. replay/, /strong-call share needed/],
      [table, "--features", "embedding", "--family", inject("familyManifest"), "--shuffles", "1", "--shadow", "0", "--sections", "replay,curves", "--out", dir]);
  });

  it("bench:routing on a site's CSV table (strong model's rows first, pandas' True/False) with half of it as history", () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-routing-history-smoke-"));
    const table = join(dir, "exam.csv");
    const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;
    writeFileSync(table, ["task,model,success,cost,prompt", ...examTable(9, 200).flatMap((item) => [1, 0].map((i) =>
      [item.id, i === 0 ? "weak" : "strong", item.success[i] ? "True" : "False", i === 0 ? 1 : 100, quoted(item.prompt)].join(",")))].join("\n"));
    return smoke("test/bench/routing.ts", { BENCH_SMOKE: "1" }, [/always-weak \(weak\) .*always-strong \(strong\)/, /first taught both models' outcomes on 100 other tasks/, /strong-call share needed/],
      [table, "--history", "0.5", "--shuffles", "1", "--shadow", "0", "--sections", "curves", "--out", dir]);
  });

  it("bench:models: compute-seconds per token of every model", () =>
    smoke("test/bench/models.ts", { BENCH_SMOKE: "1" }, [/compute-seconds per 1,000 tokens/, /atomic-test-random/]));

  it("bench:adapt: adaptation through the gateway, each strategy and the learned plan", () =>
    smoke("test/bench/adapt.ts", { BENCH_SMOKE: "1" }, [/atomic bench:adapt/, /unadapted/, /learned plans/, /overhead per request: analysis \+ plan/], ["--out", mkdtempSync(join(tmpdir(), "atomic-adapt-smoke-"))]));

  it("bench:adapt --structured: a label inside a JSON answer, fitted at its field and served", () =>
    smoke("test/bench/adapt.ts", { BENCH_SMOKE: "1" }, [/answered as JSON with an enum field/, /fitted adapter \(25 rated\)\s+\d+ %/, /25 rated → \S+\.v1: held back/], ["--structured", "--tune", "9", "--out", mkdtempSync(join(tmpdir(), "atomic-adapt-smoke-"))]));

  it("adapters: switch cost, fitting and the accuracy of fitted adapters", () =>
    smoke("test/bench/adapters.ts", { BENCH_ADAPTERS_MODEL: "generated" }, [/1\. adapter switch cost/, /2\. fitting/, /3\. accuracy lift/, /4\. the fit alone/]));
});
