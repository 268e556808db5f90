#!/usr/bin/env node
/**
 * Brings up Atomic's production Temporal on this host and stays in the foreground supervising it:
 *
 *   1. temporal-sql-tool: create the `temporal` and `temporal_visibility` databases when missing, `setup-schema
 *      -v 0.0`, `update-schema` to the embedded postgresql/v12 schemas (every start: idempotent, and how an
 *      upgraded server's schema changes land);
 *   2. temporal-server --config-file config/temporal-server.yaml start, with the template's ATOMIC_TEMPORAL_*
 *      variables and TEMPORAL_VERSION_CHECK_DISABLED=1, every listener on 127.0.0.1;
 *   3. wait until the frontend answers, register the `default` namespace if missing, wait until it is usable;
 *   4. print one JSON line {"event":"ready",...} on stdout; restart the server if it dies; on SIGINT/SIGTERM stop
 *      it gracefully (SIGTERM, SIGKILL after --stop-timeout) and exit 0.
 *
 *   node deploy/temporal/up.mjs --postgres-url postgresql://temporal@127.0.0.1:5432/postgres \
 *        --postgres-password-file /etc/atomic/temporal-db.password --dir /var/lib/atomic/temporal
 *
 * Options (each also read from the environment variable in brackets):
 *   --postgres-url URL         [ATOMIC_TEMPORAL_POSTGRES_URL] where the databases live; a socket works too:
 *                              postgresql://atomic@/postgres?host=/run/atomic/pg&port=5432
 *   --postgres-password-file F [ATOMIC_TEMPORAL_PG_PASSWORD_FILE] read the password from a file (or set
 *                              ATOMIC_TEMPORAL_PG_PASSWORD) rather than put it in the URL, which ps shows
 *   --dir DIR                  [ATOMIC_TEMPORAL_DIR] the server's working directory: its log and pid file
 *   --bin-dir DIR              [ATOMIC_TEMPORAL_SERVER_BIN_DIR] holds temporal-server and temporal-sql-tool
 *                              (default <repo>/.tools/temporal-server/bin, where build-server.mjs puts them)
 *   --server BIN, --sql-tool BIN   the two binaries one by one instead
 *   --config FILE              the config template (default config/temporal-server.yaml beside this script)
 *   --dynamic-config FILE      (default config/dynamicconfig.yaml beside this script)
 *   --database NAME, --visibility-database NAME   (default temporal, temporal_visibility)
 *   --namespace NAME           (default default); --retention-days N (default 7)
 *   --port-base N              number the nine ports N..N+8 (frontend first) instead of Temporal's defaults;
 *                              ATOMIC_TEMPORAL_<NAME>_PORT variables still win, one by one
 *   --log-level LEVEL          the server's (default info); --log-file FILE (default <dir>/temporal-server.log,
 *                              `-` for this process's stderr, e.g. under systemd's journal)
 *   --history-shards N         only read when the cluster is first created (default 4); never change it afterwards
 *   --skip-setup               do not touch the databases (another step already did)
 *   --setup-only               create and migrate the databases, then exit
 *   --stop-timeout SECONDS     how long a stopping server gets before SIGKILL (default 30)
 *
 * Progress goes to stderr; stdout carries only JSON event lines (ready, exited, restart-failed, stopped).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_CONFIG_TEMPLATE, DEFAULT_DYNAMIC_CONFIG, HERE, LOOPBACK, loopbackPortFree, locateBinaries, parsePostgresUrl,
  resolvePorts, serverEnvironment, setupDatabases, stopLeftoverServer, superviseServer, TopologyError,
} from "./topology.mjs";

const env = process.env;
const say = (message) => process.stderr.write(`temporal-up: ${message}\n`);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const fail = (message) => {
  say(`error: ${message}`);
  process.exit(1);
};

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      "postgres-url": { type: "string", default: env.ATOMIC_TEMPORAL_POSTGRES_URL },
      "postgres-password-file": { type: "string", default: env.ATOMIC_TEMPORAL_PG_PASSWORD_FILE },
      dir: { type: "string", default: env.ATOMIC_TEMPORAL_DIR },
      "bin-dir": { type: "string", default: env.ATOMIC_TEMPORAL_SERVER_BIN_DIR },
      server: { type: "string" },
      "sql-tool": { type: "string" },
      config: { type: "string", default: DEFAULT_CONFIG_TEMPLATE },
      "dynamic-config": { type: "string", default: DEFAULT_DYNAMIC_CONFIG },
      database: { type: "string", default: env.ATOMIC_TEMPORAL_DB ?? "temporal" },
      "visibility-database": { type: "string", default: env.ATOMIC_TEMPORAL_VISIBILITY_DB ?? "temporal_visibility" },
      namespace: { type: "string", default: "default" },
      "retention-days": { type: "string", default: "7" },
      "port-base": { type: "string" },
      "log-level": { type: "string", default: env.ATOMIC_TEMPORAL_LOG_LEVEL ?? "info" },
      "log-file": { type: "string" },
      "history-shards": { type: "string", default: env.ATOMIC_TEMPORAL_HISTORY_SHARDS },
      "skip-setup": { type: "boolean", default: false },
      "setup-only": { type: "boolean", default: false },
      "stop-timeout": { type: "string", default: "30" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(`${error.message} (see the comment at the top of ${join(HERE, "up.mjs")})`);
}
if (flags.help) {
  process.stderr.write(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0].replace(/^#!.*\n\/\*\*\n?/, "").replace(/^ \* ?/gm, ""));
  process.exit(0);
}

try {
  if (!flags["postgres-url"]) throw new TopologyError("--postgres-url (or ATOMIC_TEMPORAL_POSTGRES_URL) is required");
  if (!flags.dir && !flags["setup-only"]) throw new TopologyError("--dir (or ATOMIC_TEMPORAL_DIR) is required: the server's working directory");
  const target = parsePostgresUrl(flags["postgres-url"]);
  if (flags["postgres-password-file"]) target.password = readFileSync(flags["postgres-password-file"], "utf8").replace(/\r?\n$/, "");
  else if (env.ATOMIC_TEMPORAL_PG_PASSWORD) target.password = env.ATOMIC_TEMPORAL_PG_PASSWORD;
  const databases = { main: flags.database, visibility: flags["visibility-database"] };
  for (const name of Object.values(databases)) {
    // They end up inside CREATE DATABASE "<name>" and a connection string: keep them plain.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TopologyError(`database name "${name}" must be lower-case letters, digits and _`);
  }
  const retentionDays = Number(flags["retention-days"]);
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new TopologyError("--retention-days must be a whole number of days, at least 1");
  const portBase = flags["port-base"] === undefined ? undefined : Number(flags["port-base"]);
  const ports = resolvePorts({ base: portBase });
  const binaries = locateBinaries({ binDir: flags["bin-dir"] ?? join(HERE, "..", "..", ".tools", "temporal-server", "bin"), server: flags.server, sqlTool: flags["sql-tool"] });
  const where = target.socketDir ? `socket ${target.socketDir} (.s.PGSQL.${target.port})` : `${target.host}:${target.port}`;

  if (!flags["skip-setup"]) {
    say(`setting up databases ${databases.main} and ${databases.visibility} on ${where} as ${target.user}`);
    const started = Date.now();
    await setupDatabases({ sqlTool: binaries.sqlTool, target, databases, log: say });
    say(`databases ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (flags["setup-only"]) process.exit(0);

  const workDir = resolve(flags.dir);
  mkdirSync(workDir, { recursive: true, mode: 0o750 });
  await stopLeftoverServer({ workDir, binary: binaries.server, log: say });
  const busy = [];
  for (const [name, port] of Object.entries(ports)) if (!(await loopbackPortFree(port))) busy.push(`${name} ${port}`);
  if (busy.length > 0) throw new TopologyError(`ports already in use on ${LOOPBACK}: ${busy.join(", ")} (another Temporal running? choose --port-base or ATOMIC_TEMPORAL_*_PORT)`);

  const address = `${LOOPBACK}:${ports.frontend}`;
  const logFile = flags["log-file"] ?? join(workDir, "temporal-server.log");
  const stopTimeoutMs = Number(flags["stop-timeout"]) * 1000;
  let shuttingDown = false;
  say(`starting ${binaries.server} on ${address} (log: ${logFile === "-" ? "stderr" : logFile})`);
  const started = Date.now();
  const supervised = await superviseServer({
    binary: binaries.server,
    configTemplate: flags.config,
    workDir,
    env: serverEnvironment({ target, databases, ports, logLevel: flags["log-level"], dynamicConfig: flags["dynamic-config"], historyShards: flags["history-shards"] }),
    address,
    namespace: flags.namespace,
    retentionDays,
    logFile,
    stopTimeoutMs: Number.isFinite(stopTimeoutMs) && stopTimeoutMs > 0 ? stopTimeoutMs : 30_000,
    log: say,
    onEvent: (event) => {
      if (shuttingDown && event.event === "exited") return;
      emit({ ...event, ports: event.event === "ready" ? ports : undefined });
      if (event.event === "ready") say(`ready: ${address}, namespace ${event.namespace}, pid ${event.pid}`);
      if (event.event === "restart-failed") say(`restart failed: ${event.error}`);
    },
  });
  say(`first start took ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C or SIGTERM stops it`);

  const shutdown = async (signal) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`${signal}: stopping temporal-server`);
    await supervised.stop();
    emit({ event: "stopped" });
    say("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
} catch (error) {
  if (error instanceof TopologyError) fail(error.message);
  throw error;
}
