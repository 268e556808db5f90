/**
 * `npm run bench:metrics`: what the Prometheus metrics cost the gateway (issue 17). Targets: recording adds
 * ≤ 20 µs per request; a scrape with 10,000 series takes ≤ 10 ms.
 *
 *   1. recording   what one chat completion records (its HTTP request, execution, policy decision, a PII
 *                  redaction, its bidding decision and adaptation) on labels drawn from 20 routes, 5 statuses,
 *                  30 tenants and 8 models, against the same calls on the no-op recorder; then the HTTP middleware
 *                  as a Hono app runs it (route pattern lookup included), app.request() with it against without.
 *                  Alternating rounds, medians, in wall time and in this process's CPU time: the build machine is
 *                  shared, and CPU time is what the gateway itself spends.
 *   2. scrape      the exposition of a registry grown to 10,000 series (sample lines, as Prometheus counts them),
 *                  process metrics and the model gauges included: median and p99 of SCRAPES scrapes; and
 *                  prom-client's own writer on the same registry, which exposition.ts replaces.
 *
 * Printed, never asserted. BENCH_SMOKE=1: a few hundred iterations (npm test's smoke run).
 */
import { Hono } from "hono";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { httpMetrics } from "../../src/gateway/middleware/metrics/index.js";
import type { Metrics } from "../../src/observability/metrics/interface.js";
import { NoopMetrics } from "../../src/observability/metrics/noop.js";
import { PrometheusMetrics } from "../../src/observability/metrics/prometheus.js";
import { percentile, round } from "./stats.js";

const SMOKE = process.env.BENCH_SMOKE === "1";
const REQUESTS = SMOKE ? 500 : 200_000;
const SCRAPES = SMOKE ? 5 : 200;
const TARGET_SERIES = 10_000;

const ROUTES = Array.from({ length: 20 }, (_, i) => `/v1/route-${i}/:id`);
const STATUSES = [200, 400, 403, 429, 503];
const TENANTS = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
const MODELS = Array.from({ length: 8 }, (_, i) => `model-${i}`);

/** Everything one chat completion tells the metrics, on the i-th request's labels. */
function recordRequest(metrics: Metrics, i: number): void {
  const model = MODELS[i % MODELS.length]!;
  const status = STATUSES[i % STATUSES.length]!;
  metrics.httpRequest({ method: "POST", route: ROUTES[i % ROUTES.length]!, status, tenant: TENANTS[i % TENANTS.length], seconds: 0.012, errorCode: status === 200 ? undefined : "rate_limited" });
  metrics.execution({ endpoint: "chat.completions", model, outcome: "succeeded", promptTokens: 31, completionTokens: 64, queueSeconds: 0.0004, inferenceSeconds: 0.21 });
  metrics.policyDecision("redact");
  metrics.piiRedacted("email", 1);
  metrics.biddingDecision(model, i % 10 === 0 ? "explore" : "exploit");
  metrics.adaptation("learned", ["exemplars", "parameters"]);
}

interface Timing {
  wallUs: number;
  cpuUs: number;
}

/** Wall and CPU time (this process, all threads) per call of `run`, over `count` calls. */
async function timed(count: number, run: (i: number) => unknown): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await run(i);
  const used = process.cpuUsage(cpu);
  return { wallUs: ((performance.now() - started) * 1000) / count, cpuUs: (used.user + used.system) / count };
}

/**
 * A against B in alternating rounds, medians of each: on a machine shared with other work, load that comes and goes
 * falls on both alike.
 */
async function abRounds(rounds: number, a: () => Promise<Timing>, b: () => Promise<Timing>): Promise<[Timing, Timing]> {
  const as: Timing[] = [];
  const bs: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    as.push(await a());
    bs.push(await b());
  }
  const median = (sample: Timing[]): Timing => ({ wallUs: percentile(sample.map((t) => t.wallUs), 50), cpuUs: percentile(sample.map((t) => t.cpuUs), 50) });
  return [median(as), median(bs)];
}

const ROUNDS = SMOKE ? 2 : 10;
const us = (t: Timing) => `${round(t.wallUs, 2)} µs wall, ${round(t.cpuUs, 2)} µs CPU`;

async function recording(): Promise<void> {
  const prom = new PrometheusMetrics({ tenants: TENANTS, processMetrics: false });
  const noop = new NoopMetrics();
  const perRound = REQUESTS / ROUNDS;
  const [withProm, withNoop] = await abRounds(ROUNDS, () => timed(perRound, (i) => recordRequest(prom, i)), () => timed(perRound, (i) => recordRequest(noop, i)));
  const each: number[] = new Array(perRound);
  for (let i = 0; i < perRound; i++) {
    const t = performance.now();
    recordRequest(prom, i);
    each[i] = (performance.now() - t) * 1000;
  }
  console.log(`   prom-client: ${us(withProm)} per request (one by one: p50 ${round(percentile(each, 50), 2)} µs, p99 ${round(percentile(each, 99), 2)} µs)`);
  console.log(`   no-op:       ${us(withNoop)}`);
  console.log(`   added:       ${round(withProm.wallUs - withNoop.wallUs, 2)} µs wall, ${round(withProm.cpuUs - withNoop.cpuUs, 2)} µs CPU per request`);
}

/** The middleware as the gateway runs it: route pattern lookup, tenant, status, error code, one histogram and counter. */
async function middleware(): Promise<void> {
  const app = (metrics: Metrics | null) => {
    const hono = new Hono();
    if (metrics !== null) hono.use(httpMetrics(metrics));
    hono.get("/v1/things/:id", (c) => c.json({ id: c.req.param("id") }));
    return hono;
  };
  const bare = app(null);
  const counted = app(new PrometheusMetrics({ processMetrics: false }));
  const perRound = Math.max(100, REQUESTS / 10 / ROUNDS);
  const [withIt, without] = await abRounds(ROUNDS,
    () => timed(perRound, (i) => counted.request(`/v1/things/${i}`)),
    () => timed(perRound, (i) => bare.request(`/v1/things/${i}`)));
  console.log(`   the HTTP middleware in a Hono app: ${us(withIt)} per app.request() with it, ${us(without)} without: ${round(withIt.wallUs - without.wallUs, 2)} µs wall, ${round(withIt.cpuUs - without.cpuUs, 2)} µs CPU added`);
}

/** A registry grown through the recorder's own methods until its exposition holds `target` sample lines. */
async function grown(target: number): Promise<{ metrics: PrometheusMetrics; series: number }> {
  const metrics = new PrometheusMetrics({ otherTenants: 10_000 });
  metrics.watch({ models: () => MODELS.map((id) => ({ id, state: "ready", queued: 2, inFlight: 1 })) });
  const lines = async () => (await metrics.scrape()).body.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length;
  let tenant = 0;
  let series = await lines();
  while (series < target) {
    // A new tenant adds one request series per route and status it is seen with (the histograms do not grow).
    const batch = Math.max(1, Math.floor((target - series) / (ROUTES.length * STATUSES.length)));
    for (let t = 0; t < batch; t++, tenant++) {
      for (const route of ROUTES) for (const status of STATUSES) metrics.httpRequest({ method: "POST", route, status, tenant: `grown-${tenant}`, seconds: 0.01, errorCode: undefined });
    }
    for (let i = 0; i < 100; i++) recordRequest(metrics, i);
    series = await lines();
  }
  return { metrics, series };
}

async function main(): Promise<void> {
  console.log(`bench:metrics — ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, load average ${loadavg()[0]!.toFixed(1)}${SMOKE ? " (smoke run: figures mean nothing)" : ""}\n`);

  console.log(`1. recording cost per request (${REQUESTS.toLocaleString("en")} requests in ${ROUNDS} alternating rounds; target ≤ 20 µs)`);
  await recording();
  await middleware();

  const { metrics, series } = await grown(TARGET_SERIES);
  console.log(`\n2. scrape (${series.toLocaleString("en")} series; target ≤ 10 ms at 10,000)`);
  for (let i = 0; i < Math.min(SCRAPES, 10); i++) await metrics.scrape();
  const wall: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const used = process.cpuUsage();
    const t = performance.now();
    bytes = (await metrics.scrape()).body.length;
    wall.push(performance.now() - t);
    const spent = process.cpuUsage(used);
    cpu.push((spent.user + spent.system) / 1000);
  }
  console.log(`   ${SCRAPES} scrapes: median ${round(percentile(wall, 50), 2)} ms wall (p99 ${round(percentile(wall, 99), 2)}), ${round(percentile(cpu, 50), 2)} ms CPU (p99 ${round(percentile(cpu, 99), 2)}), ${round(bytes / 1024 / 1024, 2)} MB each`);
  const stock = await timed(Math.min(SCRAPES, 20), () => metrics.registry.metrics());
  console.log(`   prom-client's own registry.metrics() on the same registry: ${round(stock.wallUs / 1000, 2)} ms wall, ${round(stock.cpuUs / 1000, 2)} ms CPU (mean)`);
}

await main();
