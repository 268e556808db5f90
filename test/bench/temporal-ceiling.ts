/**
 * Temporal's own ceiling on this machine, for bench:tasks: how many workflows per second the same server completes
 * when each does nothing at all (one workflow task: started, completed), started at once by a client on its
 * worker's own connection with eager start, as the gateway starts tasks, one worker in this process. An Atomic task
 * is that plus its work (microtask scheduling, inference, its result), so no number of tasks/s above this one is
 * reachable with this server on this machine: what the durable floor is to the gateway's added latency.
 */
import { Client } from "@temporalio/client";
import { bundleWorkflowCode, NativeConnection, Worker } from "@temporalio/worker";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { siblingEntry } from "../../src/util/sibling-entry.js";

const QUIET = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Workflows per second of `count` empty workflows started at once, after a warm-up round of the same size. */
export async function temporalCeiling(address: string, namespace: string, count: number): Promise<number> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(siblingEntry(import.meta.url, "temporal-ceiling-workflow").url), logger: QUIET });
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `atomic-bench-ceiling-${process.pid}`;
  const worker = await Worker.create({ connection, namespace, taskQueue, workflowBundle, maxCachedWorkflows: Math.max(100, count) });
  const running = worker.run();
  // Eager start hands the first workflow task to a worker of the starting client's connection.
  const client = new Client({ connection, namespace });
  const burst = async (round: string): Promise<number> => {
    const started = performance.now();
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const handle = await client.workflow.start("empty", { taskQueue, workflowId: `${taskQueue}-${round}-${i}`, args: ["x"], requestEagerStart: true });
      await handle.result();
    }));
    return count / ((performance.now() - started) / 1000);
  };
  try {
    await burst("warm-up");
    return await burst("measured");
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}
