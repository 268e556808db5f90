/**
 * `npm run bench:policy`: the cost of policy decisions and of PII redaction (issue 6).
 *
 * Policy: the shipped policies/ with 8 models and 5 tenants described in memory. Per decision, timed one by one:
 * uncached (every decision through Cedar: entities and context converted into WebAssembly and evaluated) and
 * through the engine as the gateway will use it (decisions memoised per policy set), on a request mix of 5 tenants ×
 * 40 users × 8 models × 4 classifications × 4 PII mixes × 2 actions, after one warm-up pass over it. Then
 * allowedModels over the 8 models. Target (issue 6): ≥ 20,000 decisions/s and p99 ≤ 1 ms.
 *
 * Redaction: redact() (detect + placeholders) on generated prose without PII and with PII every ~60 characters,
 * plainly written and encoded to evade detection (full-width, zero-width, percent-encoded: the normalised path),
 * at 1 KB to 1 MB, in µs per KB: flat across sizes means linear. Printed, never asserted.
 *
 * Environment: BENCH_POLICY_DECISIONS (default 50000), BENCH_POLICY_REDACT_KB (sizes, default 1,16,256,1024),
 * BENCH_POLICY_REDACT_TOTAL_KB (text redacted per size and kind, at least three times its size; default 512).
 */
import { cpus } from "node:os";
import { CedarPolicyEngine } from "../../src/policy/engine.js";
import type { PolicyAction, PolicyRequest } from "../../src/policy/interface.js";
import { loadPolicySet, withPolicyData } from "../../src/policy/load.js";
import { CLASSIFICATIONS } from "../../src/policy/classification.js";
import { redact } from "../../src/redaction/redact.js";
import { PII_KINDS } from "../../src/redaction/kinds.js";
import { GENERATORS, seededText } from "../../src/redaction/samples.js";
import { percentile, round } from "./stats.js";
import { seededRng } from "../../src/util/rng.js";

const DECISIONS = Number(process.env.BENCH_POLICY_DECISIONS ?? 50_000);
/** Input sizes of the redaction figures, KB (the smoke run keeps the small ones: 1 MB of dense PII takes seconds). */
const REDACT_KB = (process.env.BENCH_POLICY_REDACT_KB ?? "1,16,256,1024").split(",").map(Number);
/** KB redacted per size and kind, in repeats of the size (the smoke run's few repeats only have to reach the end). */
const REDACT_TOTAL_KB = Number(process.env.BENCH_POLICY_REDACT_TOTAL_KB ?? 512);
const TENANTS = ["acme", "beta", "gamma", "delta", "omega"];
const MODELS = Array.from({ length: 8 }, (_, i) => ({ id: `model-${i}`, sha256: String(i).repeat(64) }));
const PII_MIXES = [[], ["email"], ["email", "iban"], ["phone", "credit_card"]];
const ACTIONS: PolicyAction[] = ["infer", "embed"];

function engines() {
  const set = loadPolicySet("policies");
  const models = Object.fromEntries(MODELS.map((m, i) => [m.id, {
    clearance: CLASSIFICATIONS[i % 4]!,
    allowedTenants: i % 3 === 0 ? ("*" as const) : TENANTS.slice(0, 1 + (i % TENANTS.length)),
    acceptsPii: i % 2 === 0,
  }]));
  const withModels = withPolicyData(set, { ...set.data, models });
  return { hash: set.hash, uncached: new CedarPolicyEngine(withModels, { decisionCacheSize: 0 }), cached: new CedarPolicyEngine(withModels) };
}

function requests(count: number, seed: number): PolicyRequest[] {
  const rng = seededRng(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rng() * items.length)]!;
  return Array.from({ length: count }, () => {
    const tenant = pick(TENANTS);
    return {
      principal: { tenant, subject: `user-${Math.floor(rng() * 40)}`, scopes: new Set(["infer", "embed"]) },
      action: pick(ACTIONS),
      resource: pick(MODELS),
      context: { classification: pick(CLASSIFICATIONS), piiKinds: pick(PII_MIXES), purpose: "" },
    };
  });
}

function timeEach(label: string, run: (i: number) => void, count: number): void {
  const times: number[] = new Array(count);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    run(i);
    times[i] = performance.now() - t;
  }
  const total = performance.now() - started;
  const perSecond = count / (total / 1000);
  const p99 = percentile(times, 99);
  const verdict = perSecond >= 20_000 && p99 <= 1 ? "meets" : "misses";
  console.log(`  ${label.padEnd(44)} ${Math.round(perSecond).toLocaleString("en-US").padStart(10)}/s   p50 ${round(percentile(times, 50) * 1000, 1)} µs   p99 ${round(p99 * 1000, 1)} µs   (${verdict} ≥ 20,000/s, p99 ≤ 1 ms)`);
}

function policyBench(): void {
  const { hash, uncached, cached } = engines();
  const mix = requests(DECISIONS, 1);
  console.log(`policy decisions (policy set ${hash.slice(0, 16)}…, ${DECISIONS} requests, 8 models, 5 tenants)`);
  for (let i = 0; i < Math.min(2000, DECISIONS); i++) uncached.decide(mix[i]!);
  timeEach("Cedar, every decision evaluated", (i) => uncached.decide(mix[i]!), DECISIONS);
  // Warm-up on other draws from the same mix, no more of them than are measured.
  for (const request of requests(Math.min(20_000, DECISIONS), 2)) cached.decide(request);
  timeEach("engine as the gateway uses it (memoised)", (i) => cached.decide(mix[i]!), DECISIONS);
  // Never more calls than requests drawn: a smoke run (BENCH_POLICY_DECISIONS small) must index within the mix.
  const calls = Math.min(DECISIONS, Math.max(1000, Math.floor(DECISIONS / 8)));
  const context = (i: number) => mix[i]!.context;
  const principal = (i: number) => mix[i]!.principal;
  const time = (engine: CedarPolicyEngine) => {
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      engine.allowedModels(principal(i), "infer", context(i), MODELS);
      times.push(performance.now() - t);
    }
    return `p50 ${round(percentile(times, 50) * 1000, 1)} µs, p99 ${round(percentile(times, 99) * 1000, 1)} µs`;
  };
  console.log(`  allowedModels over 8 models: Cedar ${time(uncached)}; memoised ${time(cached)}`);
}

function redactionBench(): void {
  console.log("redaction: redact() = detect + placeholders, µs per KB of input");
  const rng = seededRng(2);
  const plain = (bytes: number) => {
    const words = ["the", "quarterly", "report", "shows", "revenue", "of", "42", "million", "in", "2024,", "up", "from", "last", "year;", "see", "section", "3.1", "for", "details."];
    let text = "";
    while (text.length < bytes) text += `${words[Math.floor(rng() * words.length)]} `;
    return text.slice(0, bytes);
  };
  const withPii = (bytes: number) => {
    let text = "";
    while (text.length < bytes) text += seededText(rng, PII_KINDS, 20).text;
    return text.slice(0, bytes);
  };
  const encodings = [
    (value: string) => value.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
    (value: string) => `${value.slice(0, 3)}\u200b${value.slice(3)}`,
    (value: string) => value.replace(/[@ +]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  ];
  const withEncodedPii = (bytes: number) => {
    let text = "";
    let n = 0;
    while (text.length < bytes) text += seededText(rng, PII_KINDS, 20, (kind) => encodings[n++ % encodings.length]!(GENERATORS[kind](rng))).text;
    return text.slice(0, bytes);
  };
  for (const [label, make] of [["prose, no PII", plain], ["prose, PII every ~60 chars", withPii], ["  the PII encoded", withEncodedPii]] as const) {
    const cells: string[] = [];
    let found = 0;
    for (const kb of REDACT_KB) {
      const text = make(kb * 1024);
      const repeats = Math.max(3, Math.ceil(REDACT_TOTAL_KB / kb));
      redact(text);
      const times: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        found = redact(text).findings.length;
        times.push(performance.now() - t);
      }
      cells.push(`${kb} KB ${round((percentile(times, 50) * 1000) / kb, 1)}`);
    }
    console.log(`  ${label.padEnd(28)} ${cells.join("   ")}   µs/KB (${REDACT_KB.at(-1)} KB: ${found} findings)`);
  }
}

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`);
policyBench();
redactionBench();
