/**
 * `npm run bench:audit`: what the tamper-evident audit log costs, measured in one run on this machine.
 *   1. Durable appends: 16 writers each commit one INSERT into the queue per event (synchronous_commit on), in a
 *      transaction of its own and as a single statement, while the sequencer runs on its worker thread as in the
 *      gateway: appends/s acknowledged, p50/p99 of what each enqueue costs its request, and how long the sequencer
 *      takes to catch up once writers stop. The group-commit row is also measured with the sequencer on the main
 *      thread, the baseline that the worker thread replaced.
 *   2. Sequencing alone: a backlog queued in bulk, drained by the sequencer in batches of 1000.
 *   3. A log of BENCH_AUDIT_LOG leaves (default 1,000,000): receipts and a consistency proof on it (O(log n) stored
 *      hashes each), export of all of it, then the auditor's verifier
 *      (audit/verify.mjs, the bundle auditors run) on it, each in a process of its own so that its time and peak RSS are its own.
 * Targets (issue 3): >= 10,000 appends/s; verifying 1M leaves in <= 10 s within 256 MB. Printed, never asserted.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { Pool } from "pg";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { generateSigningKey, loadSigningKey, PUBLIC_JWK_FILE, SIGNING_KEY_FILE } from "../../src/audit/core/keys.js";
import { exportAudit } from "../../src/audit/store/exporter.js";
import { AuditQueueWriter, enqueueAuditEvent, queuedEventText } from "../../src/audit/store/queue.js";
import { AuditLogReader } from "../../src/audit/store/reader.js";
import { AuditSequencer } from "../../src/audit/store/sequencer.js";
import { SequencerThread } from "../../src/audit/store/sequencer-thread.js";
import { createPool } from "../../src/store/postgres/database.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { inTransaction } from "../../src/store/postgres/transaction.js";
import { requestEvent } from "../audit/support/events.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { percentile, round } from "./stats.js";

const WRITERS = 16;
const APPENDS_PER_WRITER = Number(process.env.BENCH_AUDIT_APPENDS ?? 4000);
const LOG_SIZE = Number(process.env.BENCH_AUDIT_LOG ?? 1_000_000);
const BACKLOG = Number(process.env.BENCH_AUDIT_BACKLOG ?? 200_000);
const ORIGIN = "bench.atomic/audit";
const KEY_NAME = "bench.atomic";
/** Events per statement when filling the queue in bulk (phase 2 and 3 filler, not what a request does). */
const FILL_CHUNK = 5000;

/** Preloaded into every child: its peak RSS (kB) on stderr as it exits, the last line it writes there. */
const REPORT_PEAK_RSS = `data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss "+process.resourceUsage().maxRSS+"\\n"))`;

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === "export-child") return exportChild(args);

  const database = await startTestDatabaseServer();
  const work = await mkdtemp(join(tmpdir(), "atomic-bench-audit-"));
  const pool = createPool(database.url, { max: WRITERS + 4 });
  try {
    await migrate(pool);
    const key = generateSigningKey(work, KEY_NAME);
    const sequencer = new AuditSequencer({ pool, key, origin: ORIGIN });
    const thread = new SequencerThread({ databaseUrl: database.url, pool, key, origin: ORIGIN });
    console.log(`atomic audit bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, node ${process.version}`);

    console.log(`\n1. durable appends: ${WRITERS} writers × ${APPENDS_PER_WRITER} commits each, synchronous_commit on, sequencer running`);
    let total = 0;
    for (const [label, append, where] of APPEND_STYLES) {
      const running = where === "thread" ? thread : sequencer;
      await running.start();
      const appends = await concurrentAppends(pool, append);
      const caughtUpStarted = performance.now();
      await running.drain();
      const catchUpMs = performance.now() - caughtUpStarted;
      await running.stop();
      total += appends.count;
      console.log(`   ${label}`);
      console.log(`     acknowledged ${round(appends.count / (appends.ms / 1000), 0)} appends/s (${appends.count} in ${round(appends.ms / 1000, 2)} s); enqueue p50 ${round(percentile(appends.latencies, 50))} ms, p99 ${round(percentile(appends.latencies, 99))} ms, max ${round(Math.max(...appends.latencies))} ms`);
      console.log(`     sequencer caught up ${round(catchUpMs)} ms after the last acknowledgment; ${round(appends.count / ((appends.ms + catchUpMs) / 1000), 0)} leaves/s end to end`);
    }

    console.log(`\n2. sequencing alone: ${BACKLOG} events queued in bulk beforehand, then drained (batches of 1000, one checkpoint each)`);
    await fillQueue(pool, BACKLOG);
    total += BACKLOG;
    const drained = await timed(async () => {
      await sequencer.start();
      await sequencer.drain();
    });
    console.log(`   sequenced ${round(BACKLOG / (drained / 1000), 0)} leaves/s (${round(drained / 1000, 2)} s)`);

    console.log(`\n3. export and verify a log of ${LOG_SIZE} leaves`);
    if (LOG_SIZE > total) {
      const filled = await timed(async () => {
        await sequencer.stop();
        await fillQueue(pool, LOG_SIZE - total);
        await sequencer.start();
        await sequencer.drain();
      });
      console.log(`   (queued and sequenced the other ${LOG_SIZE - total} leaves in ${round(filled / 1000, 1)} s)`);
    }
    await sequencer.stop();
    const reader = new AuditLogReader(pool);
    const sampled = await pool.query<{ event_id: string }>("SELECT event_id FROM audit_log ORDER BY random() LIMIT 50");
    const receiptMs: number[] = [];
    for (const { event_id } of sampled.rows) {
      const started = performance.now();
      await reader.receipt(event_id);
      receiptMs.push(performance.now() - started);
    }
    const size = (await reader.latestCheckpoint())!.size;
    const consistencyStarted = performance.now();
    await reader.consistencyProof(Math.floor(size / 3), size);
    console.log(`   receipt (leaf + inclusion proof) on the ${size}-leaf log: p50 ${round(percentile(receiptMs, 50))} ms, max ${round(Math.max(...receiptMs))} ms over 50 random events; consistency proof ${round(performance.now() - consistencyStarted)} ms`);
    const exportDir = join(work, "export");
    const exported = await child([fileURLToPath(import.meta.url), "export-child", database.url, join(work, SIGNING_KEY_FILE), exportDir]);
    const entriesBytes = (await stat(join(exportDir, "entries.jsonl"))).size;
    console.log(`   export  ${round(exported.ms / 1000, 2)} s, peak RSS ${exported.maxRssMb} MB (entries.jsonl ${round(entriesBytes / 2 ** 20, 0)} MiB)`);
    const verifier = fileURLToPath(new URL("../../audit/verify.mjs", import.meta.url));
    const verified = await child([verifier, exportDir, "--key", join(work, PUBLIC_JWK_FILE)]);
    const idle = await child(["-e", ""]);
    console.log(`   verify  ${round(verified.ms / 1000, 2)} s, peak RSS ${verified.maxRssMb} MB: ${verified.stdout.trim()}`);
    console.log(`           (a process with the same loader doing nothing: ${round(idle.ms / 1000, 2)} s, ${idle.maxRssMb} MB)`);
  } finally {
    await pool.end();
    await rm(work, { recursive: true, force: true });
    await database.stop();
  }
}

type Append = (pool: Pool, event: AuditEvent) => Promise<void>;

const APPEND_STYLES: Array<[string, Append, "thread" | "main"]> = [
  ["in a transaction of its own (BEGIN, INSERT, COMMIT: 3 round trips)", (pool, event) => inTransaction(pool, (client) => enqueueAuditEvent(client, event)), "thread"],
  ["as one statement each (autocommit INSERT)", (pool, event) => enqueueAuditEvent(pool, event), "thread"],
  ["with group commit, sequencer on the main thread (baseline: before it had a thread)", groupCommitted(), "main"],
  ["with group commit (what the request path does: concurrent writers share one INSERT and one commit)", groupCommitted(), "thread"],
];

/** One AuditQueueWriter per pool, as the gateway holds one. */
function groupCommitted(): Append {
  const writers = new WeakMap<Pool, AuditQueueWriter>();
  return (pool, event) => {
    let writer = writers.get(pool);
    if (!writer) writers.set(pool, (writer = new AuditQueueWriter(pool)));
    return writer.enqueue(event);
  };
}

/** Each writer commits its events one at a time, as request handlers do. */
async function concurrentAppends(pool: Pool, append: Append): Promise<{ count: number; ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  const ms = await timed(async () => {
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = 0; i < APPENDS_PER_WRITER; i++) {
          const event = requestEvent();
          const started = performance.now();
          await append(pool, event);
          latencies.push(performance.now() - started);
        }
      }),
    );
  });
  return { count: latencies.length, ms, latencies };
}

/** Filler for phases 2 and 3, many events per statement: not what a request does. */
async function fillQueue(pool: Pool, count: number): Promise<void> {
  for (let done = 0; done < count; done += FILL_CHUNK) {
    const events = Array.from({ length: Math.min(FILL_CHUNK, count - done) }, () => requestEvent());
    await pool.query("INSERT INTO audit_queue (event_id, event) SELECT * FROM unnest($1::uuid[], $2::text[])", [
      events.map((event) => event.id),
      events.map(queuedEventText),
    ]);
  }
}

async function exportChild([url, pemPath, outDir]: string[]): Promise<void> {
  const pool = createPool(url!, { max: 2 });
  try {
    await exportAudit({ pool, outDir: outDir!, key: loadSigningKey(pemPath!, KEY_NAME) });
  } finally {
    await pool.end();
  }
}

/** Runs node with this process's loader, if any (tsx's when run from source), and `args`; wall time, peak RSS and what it printed. */
async function child(args: string[]): Promise<{ ms: number; maxRssMb: number; stdout: string }> {
  const started = performance.now();
  const running = spawn(process.execPath, [...process.execArgv, "--import", REPORT_PEAK_RSS, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  running.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  running.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const code = await new Promise<number | null>((resolve) => running.on("close", resolve));
  const ms = performance.now() - started;
  const rss = /maxrss (\d+)\n$/.exec(stderr);
  if (code !== 0 || rss === null) throw new Error(`node ${args.join(" ")} exited with ${code}:\n${stdout}${stderr}`);
  return { ms, maxRssMb: Math.round(Number(rss[1]) / 1024), stdout };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

await main();
