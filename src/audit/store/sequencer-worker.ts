/**
 * Entry point of the sequencer's worker thread (see sequencer-thread.ts): runs one candidate AuditSequencer on
 * a pool of its own and reports to the main thread by messages. Loaded only through `new Worker`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createPool } from "../../store/postgres/database.js";
import { AuditSequencer } from "./sequencer.js";
import type { SequencerWorkerData, ToMainThread, ToWorker } from "./sequencer-protocol.js";

const port = parentPort;
if (port === null) throw new Error("sequencer-worker runs only as a worker thread");
const data = workerData as SequencerWorkerData;
const post = (message: ToMainThread) => port.postMessage(message);
const log = (level: "info" | "warn") => (obj: object, msg?: string) => post({ type: "log", level, obj, msg });

// The leader's connection plus the election and a spare: the sequencer never needs more at once.
const pool = createPool(data.databaseUrl, { max: 3, logger: { warn: log("warn") } });
const sequencer = new AuditSequencer({
  pool,
  key: data.key,
  ...(data.retired === undefined ? {} : { retired: data.retired }),
  origin: data.origin,
  ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
  ...(data.intervalMs === undefined ? {} : { intervalMs: data.intervalMs }),
  ...(data.electionIntervalMs === undefined ? {} : { electionIntervalMs: data.electionIntervalMs }),
  logger: { info: log("info"), warn: log("warn") },
  onLeadership: (leader) => post({ type: "leadership", leader }),
});

port.on("message", (message: ToWorker) => {
  if (message.type !== "stop") return;
  void sequencer
    .stop()
    .then(() => pool.end())
    .then(() => post({ type: "stopped" }));
});

try {
  await sequencer.start();
  post({ type: "started", leader: sequencer.isLeader });
} catch (error) {
  await pool.end().catch(() => undefined);
  post({ type: "failed", error: error instanceof Error ? error.message : String(error) });
}
