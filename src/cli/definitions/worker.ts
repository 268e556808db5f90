import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";
import { commaList } from "../values.js";

export function defineWorker(program: Command): void {
  leafCommand(program, "worker", "run Temporal workers: the task workflows and control activities, and this host's inference")
    .option("--temporal <host:port>", "Temporal frontend (default: ATOMIC_TEMPORAL_ADDRESS, else 127.0.0.1:7233)")
    .option("--namespace <ns>", "Temporal namespace")
    .option("--host-id <id>", "this model host's name; its inference queue is atomic-inference-<id> (default: ATOMIC_HOST_ID, else the host name)")
    .option("--models <ids>", "serve only these pinned models, comma-separated (default: every model in the manifest)", commaList)
    .option("--no-inference", "run workflows and control activities only (a machine without models)")
    .option("--no-control", "run inference only (a model host; another worker runs the workflows)")
    .option("--dev-server", "start and supervise a local Temporal dev server (SQLite under <dataDir>/temporal) first")
    .addHelpText("after", `
Executions are written to the configured database. On another machine than the
gateway, set DATABASE_URL to the gateway's database, and copy its
content-hash.key and temporal-payload.key to audit.keyDir.`)
    .action(run(async () => (await import("../commands/worker.js")).workerCommand, { logs: "configured" }));
}
