/**
 * `npm run bench:peers` (also part of `npm run bench`): the overhead of Atomic against two other gateways, side
 * by side on this machine in one run. Each answers the same chat completion, in a process of its own on 127.0.0.1:
 *   - the mock OpenAI upstream, called directly: the baseline;
 *   - Atomic with its no-op engine (no upstream), everything a request goes through on a site, audit on, the
 *     execution and its audit event committed durably before the answer (test/bench/peers/atomic-noop.ts);
 *   - LiteLLM's proxy and Portkey's gateway in front of the mock, when installed (npm run peers:install).
 * Added latency = a gateway's latency minus the mock's, one request at a time (p50/p99 of all rounds' requests);
 * throughput = requests/s with 32 always in flight (median of the rounds). Rounds interleave the targets, in an
 * order that rotates every round, so that a noisy minute does not land on one of them. Each target first takes 5 s
 * of load unmeasured (WARMUP_MS), so that no round compares a gateway still being compiled by V8 with a warm one.
 * Goal (issue 18): Atomic adds at most half of what the faster peer adds, at p50 and at p99, and serves more
 * requests/s than either. Printed, never asserted.
 *
 *   npm run bench:peers [-- --peers litellm,portkey]
 *
 * Environment: BENCH_SMOKE=1 (one short round: npm test's smoke run), BENCH_PEERS_ROUNDS, BENCH_PEERS_REQUESTS
 * (sequential requests per target and round), BENCH_PEERS_THROUGHPUT_MS (measured time per target and round),
 * ATOMIC_PEERS_HOME (where the peers are installed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PEERS } from "../../scripts/lib/peers.mjs";
import { startTestDatabaseServer } from "../support/database-server.js";
import { databaseDurability, measureFsyncFloor } from "./fsync-floor.js";
import { installedPeer, MODEL, startAtomic, startLiteLLM, startMockUpstream, startPortkey, type PeerName, type Target } from "./peers/gateways.js";
import { latencies, throughput } from "./peers/load.js";
import { printReport, type Measured } from "./peers/report.js";
import { percentile, round } from "./stats.js";

const SMOKE = process.env.BENCH_SMOKE === "1";
const ROUNDS = Number(process.env.BENCH_PEERS_ROUNDS ?? (SMOKE ? 1 : 4));
const REQUESTS = Number(process.env.BENCH_PEERS_REQUESTS ?? (SMOKE ? 20 : 1000));
const WARMUP_REQUESTS = SMOKE ? 5 : 100;
const CONCURRENCY = 32;
const THROUGHPUT_MS = Number(process.env.BENCH_PEERS_THROUGHPUT_MS ?? (SMOKE ? 300 : 5_000));
const THROUGHPUT_WARMUP_MS = SMOKE ? 100 : 1_000;
const FLOOR_SYNCS = SMOKE ? 20 : 500;
/**
 * Load every target takes, unmeasured, before the first round: a Node gateway's request path runs several times
 * slower until V8 has optimised it (Atomic's in-process p50 was ~0.45 ms over its first 2,000 requests and ~0.2 ms
 * after 5,000), and a first round measured cold compared a gateway's start-up with another's steady state.
 */
const WARMUP_MS = SMOKE ? 0 : 5_000;

const BODY = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "The quick brown fox jumps over the lazy dog." }], max_tokens: 16 });
const LABELS: Record<PeerName, string> = { litellm: "LiteLLM", portkey: "Portkey" };
const PACKAGES: Record<PeerName, string> = { litellm: "litellm[proxy]", portkey: "@portkey-ai/gateway" };

const { values } = parseArgs({ options: { peers: { type: "string" } }, strict: true });
const wanted = (values.peers?.split(",").map((name) => name.trim()).filter(Boolean) ?? Object.keys(PEERS)) as PeerName[];
for (const name of wanted) if (!(name in PEERS)) throw new Error(`unknown peer ${name} (known: ${Object.keys(PEERS).join(", ")})`);

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function main(): Promise<void> {
  console.log(`atomic peers bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, node ${process.version}`);
  const workDir = mkdtempSync(join(tmpdir(), "atomic-bench-peers-"));
  const database = await startTestDatabaseServer();
  const targets: Target[] = [];
  try {
    const mock = await startMockUpstream(workDir);
    targets.push(mock);
    targets.push(await startAtomic({ databaseUrl: database.url, dataDir: join(workDir, "atomic"), workDir }));
    const missing = wanted.filter((name) => installedPeer(name) === undefined);
    if (missing.length > 0) {
      const which = missing.map((name) => `${LABELS[name]} (${PACKAGES[name]} ${PEERS[name].version})`).join(" and ");
      console.log(`${which} not installed (npm run peers:install installs ${missing.length === 1 ? "it" : "them"}): measuring without ${missing.length === 1 ? "it" : "them"}`);
    }
    for (const name of wanted.filter((peer) => !missing.includes(peer))) {
      const start = name === "litellm" ? startLiteLLM : startPortkey;
      targets.push(await start({ mockUrl: mock.url, workDir, body: BODY }));
      console.log(`${LABELS[name]} ${PEERS[name].version} started`);
    }

    const durability = await databaseDurability(database.url);
    const floor: number[] = [];
    let floorDir = "";
    for (const target of targets) if (WARMUP_MS > 0) await throughput(target.endpoint, BODY, CONCURRENCY, WARMUP_MS);
    const measured = new Map<Target, Measured>(targets.map((target) => [target, { name: target.name, latency: [], latencyRounds: [], perSecond: [], atConcurrency: [] }]));
    for (let pass = 0; pass < ROUNDS; pass++) {
      // Latency first for every target, then throughput: a gateway still busy after 32 in flight would otherwise
      // slow the next one's sequential requests.
      for (const target of rotate(targets, pass)) {
        const sample = await latencies(target.endpoint, BODY, REQUESTS, WARMUP_REQUESTS);
        measured.get(target)!.latency.push(...sample);
        measured.get(target)!.latencyRounds.push(sample);
      }
      // The disk's flush, between the passes: Atomic's durable commit cannot take less (see fsync-floor.ts).
      const syncs = measureFsyncFloor({ preferred: durability.walDir, fallback: workDir }, FLOOR_SYNCS);
      floor.push(...syncs.sample);
      floorDir = syncs.dir;
      for (const target of rotate(targets, pass)) {
        const run = await throughput(target.endpoint, BODY, CONCURRENCY, THROUGHPUT_MS, THROUGHPUT_WARMUP_MS);
        measured.get(target)!.perSecond.push(run.perSecond);
        measured.get(target)!.atConcurrency.push(...run.sample);
      }
      console.log(`round ${pass + 1}/${ROUNDS} done`);
    }
    const [baseline, atomic, ...peers] = targets.map((target) => measured.get(target)!);
    printReport({ baseline: baseline!, atomic: atomic!, peers }, { rounds: ROUNDS, requests: REQUESTS, concurrency: CONCURRENCY, throughputMs: THROUGHPUT_MS });
    console.log(`\nthe disk's durable floor in the same run (8 KiB write + fdatasync in ${floorDir}, ${floor.length} in all): p50 ${round(percentile(floor, 50), 3)} ms, p99 ${round(percentile(floor, 99), 3)} ms — part of every Atomic answer, of no peer's`);
  } finally {
    for (const target of targets.reverse()) await target.stop();
    await database.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
