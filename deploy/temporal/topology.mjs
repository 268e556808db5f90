/**
 * The pieces of Atomic's production Temporal topology — PostgreSQL target, schemas, ports, the server process and
 * the default namespace — for up.mjs and for anything else that brings the topology up (the offline bundle's
 * installer). Every path is explicit: nothing here assumes it runs from a checkout.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CONFIG_TEMPLATE = join(HERE, "config", "temporal-server.yaml");
export const DEFAULT_DYNAMIC_CONFIG = join(HERE, "config", "dynamicconfig.yaml");
export const SERVER_BINARY = "temporal-server";
export const SQL_TOOL_BINARY = "temporal-sql-tool";
/** Every listener binds here: the appliance's Temporal is for the processes on this host only. */
export const LOOPBACK = "127.0.0.1";

/**
 * The server's ports, as the config template's environment variables name them, with Temporal's usual numbers.
 * `portsFromBase(n)` numbers them n, n+1, ... in this order instead (tests, or a second topology on one host).
 */
export const PORTS = [
  ["frontend", "ATOMIC_TEMPORAL_FRONTEND_PORT", 7233],
  ["history", "ATOMIC_TEMPORAL_HISTORY_PORT", 7234],
  ["matching", "ATOMIC_TEMPORAL_MATCHING_PORT", 7235],
  ["worker", "ATOMIC_TEMPORAL_WORKER_PORT", 7239],
  ["frontendMembership", "ATOMIC_TEMPORAL_FRONTEND_MEMBERSHIP_PORT", 6933],
  ["historyMembership", "ATOMIC_TEMPORAL_HISTORY_MEMBERSHIP_PORT", 6934],
  ["matchingMembership", "ATOMIC_TEMPORAL_MATCHING_MEMBERSHIP_PORT", 6935],
  ["workerMembership", "ATOMIC_TEMPORAL_WORKER_MEMBERSHIP_PORT", 6939],
  ["metrics", "ATOMIC_TEMPORAL_METRICS_PORT", 8000],
];

export class TopologyError extends Error {
  name = "TopologyError";
}

/** Ports from the environment (ATOMIC_TEMPORAL_*_PORT), else a base, else Temporal's defaults. */
export function resolvePorts({ base, env = process.env } = {}) {
  const ports = {};
  PORTS.forEach(([name, variable, fallback], index) => {
    const raw = env[variable];
    const value = raw !== undefined && raw !== "" ? Number(raw) : base !== undefined ? base + index : fallback;
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new TopologyError(`${variable}=${raw ?? value} is not a TCP port`);
    ports[name] = value;
  });
  for (const [name, variable] of PORTS) {
    // Temporal records each service's membership port in cluster_membership.rpc_port, a SMALLINT: a higher port
    // makes the server die at start with "out of range for type smallint".
    if (name.endsWith("Membership") && ports[name] > 32767) throw new TopologyError(`the ${name} port is ${ports[name]} (${variable}, or the port base + ${PORTS.findIndex(([n]) => n === name)}): membership ports must be 32767 or lower, as Temporal stores them in a PostgreSQL smallint`);
  }
  const values = Object.values(ports);
  if (new Set(values).size !== values.length) throw new TopologyError(`two of the server's ports are the same: ${JSON.stringify(ports)}`);
  return ports;
}

/** Resolves false when something already listens on 127.0.0.1:port. */
export function loopbackPortFree(port) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolvePort(true)));
  });
}

/**
 * A PostgreSQL URL as libpq writes it: postgresql://user[:password]@host[:port][/database][?sslmode=..] or, for a
 * unix socket (Atomic's embedded PostgreSQL), postgresql://user@/database?host=/socket/dir&port=5432. The database
 * in the URL is only where `CREATE DATABASE` is issued from (default `postgres`); Temporal's own databases are
 * named separately.
 */
export function parsePostgresUrl(url) {
  // Not WHATWG URL: it rejects the empty host of a socket URL.
  const match = /^postgres(?:ql)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(url ?? "");
  if (!match) throw new TopologyError("the PostgreSQL URL must look like postgresql://user:password@host:port/database or postgresql://user@/database?host=/socket/dir");
  const [, user = "", password, hostPort = "", database = "", query = ""] = match;
  const params = new URLSearchParams(query);
  const hostMatch = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  if (!hostMatch) throw new TopologyError(`cannot read host and port from "${hostPort}" in the PostgreSQL URL`);
  let host = decodeURIComponent(hostMatch[1] ?? "");
  const port = Number(params.get("port") ?? hostMatch[2] ?? 5432);
  const queryHost = params.get("host");
  let socketDir;
  if (queryHost?.startsWith("/")) socketDir = queryHost;
  else if (queryHost) host = queryHost;
  else if (host.startsWith("/")) {
    socketDir = host;
    host = "";
  }
  if (!socketDir && !host) throw new TopologyError("the PostgreSQL URL names neither a host nor a socket directory (?host=/dir)");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TopologyError(`the PostgreSQL port ${port} is not a TCP port`);
  if (!user) throw new TopologyError("the PostgreSQL URL names no user (postgresql://USER@...)");
  const sslmode = params.get("sslmode") ?? undefined;
  return {
    // Both plugins use the same postgresql/v12 schemas. postgres12 (lib/pq) is Temporal's usual one, but it cannot
    // reach a unix socket through the URL Temporal builds (lib/pq sorts the URL's parameters, so the URL's own host
    // always wins over host=/dir); pgx honours host=/dir.
    plugin: socketDir ? "postgres12_pgx" : "postgres12",
    user: decodeURIComponent(user),
    password: password === undefined ? undefined : decodeURIComponent(password),
    // With a socket the host only fills Temporal's host:port field; libpq's host=/dir attribute overrides it.
    host: socketDir ? LOOPBACK : host.replace(/^\[(.*)\]$/, "$1"),
    port,
    socketDir,
    adminDatabase: decodeURIComponent(database) || undefined,
    tls: sslmode !== undefined && !["disable", "allow", "prefer"].includes(sslmode),
    tlsVerifyHost: sslmode === "verify-full",
    caFile: params.get("sslrootcert") ?? undefined,
  };
}

/** host:port as Go writes it (brackets around an IPv6 address). */
export function hostPort(host, port) {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The environment the server renders its config template from (see config/temporal-server.yaml), plus what keeps
 * it from calling home. Whatever the caller's environment already says for a variable is overridden.
 */
export function serverEnvironment({ target, databases, ports, logLevel = "info", dynamicConfig = DEFAULT_DYNAMIC_CONFIG, historyShards }) {
  const env = {
    TEMPORAL_VERSION_CHECK_DISABLED: "1",
    ATOMIC_TEMPORAL_PG_PLUGIN: target.plugin,
    ATOMIC_TEMPORAL_PG_ADDRESS: hostPort(target.host, target.port),
    ATOMIC_TEMPORAL_PG_SOCKET_DIR: target.socketDir ?? "",
    ATOMIC_TEMPORAL_PG_USER: target.user,
    ATOMIC_TEMPORAL_PG_PASSWORD: target.password ?? "",
    ATOMIC_TEMPORAL_PG_TLS: target.tls ? "true" : "false",
    ATOMIC_TEMPORAL_PG_CA_FILE: target.caFile ?? "",
    ATOMIC_TEMPORAL_PG_TLS_VERIFY_HOST: target.tlsVerifyHost ? "true" : "false",
    ATOMIC_TEMPORAL_DB: databases.main,
    ATOMIC_TEMPORAL_VISIBILITY_DB: databases.visibility,
    ATOMIC_TEMPORAL_LOG_LEVEL: logLevel,
    ATOMIC_TEMPORAL_DYNAMIC_CONFIG: resolve(dynamicConfig),
  };
  if (historyShards !== undefined) env.ATOMIC_TEMPORAL_HISTORY_SHARDS = String(historyShards);
  for (const [name, variable] of PORTS) env[variable] = String(ports[name]);
  return env;
}

/** The two binaries, from a directory (build-server.mjs's bin/) or given one by one. */
export function locateBinaries({ binDir, server, sqlTool }) {
  const found = {
    server: resolve(server ?? join(binDir ?? "", SERVER_BINARY)),
    sqlTool: resolve(sqlTool ?? join(binDir ?? "", SQL_TOOL_BINARY)),
  };
  for (const path of Object.values(found)) {
    let ok = false;
    try {
      ok = statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new TopologyError(
        `${path} is missing or not executable. Build the Temporal server with \`node deploy/temporal/build-server.mjs\` ` +
          "(Go 1.26.2+ and the Go module proxy; about 6 min on 2 cores), or pass --bin-dir / --server and --sql-tool.",
      );
    }
  }
  return found;
}

function runTool(binary, args, env) {
  return new Promise((resolveRun) => {
    const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.once("error", (error) => resolveRun({ code: -1, output: `${output}\n${error.message}` }));
    child.once("close", (code, signal) => resolveRun({ code: code ?? (signal ? -1 : 0), output }));
  });
}

/**
 * Creates Temporal's two databases when missing and brings their schemas to the versions this temporal-sql-tool
 * embeds (postgresql/v12/temporal and postgresql/v12/visibility): `create-database`, `setup-schema -v 0.0`,
 * `update-schema`. Safe to run on every start: an existing database is kept, setup-schema skips a versioned
 * database and update-schema applies only what is missing — which is also how an upgraded server's schema changes
 * are applied.
 */
export async function setupDatabases({ sqlTool, target, databases, log = () => undefined }) {
  const common = ["--plugin", target.plugin, "--endpoint", target.host, "--port", String(target.port), "--user", target.user];
  const attributes = new URLSearchParams();
  if (target.socketDir) attributes.set("host", target.socketDir);
  if (attributes.size > 0) common.push("--connect-attributes", attributes.toString());
  if (target.tls) {
    common.push("--tls");
    if (target.caFile) common.push("--tls-ca-file", target.caFile);
    if (!target.tlsVerifyHost) common.push("--tls-disable-host-verification");
  }
  // The password goes through the tool's environment variable, never its command line (visible in ps).
  const env = { ...process.env, SQL_PASSWORD: target.password ?? "" };
  const run = async (database, args, what) => {
    const result = await runTool(sqlTool, [...common, "--database", database, ...args], env);
    return { ...result, what };
  };
  const where = target.socketDir ? `the socket in ${target.socketDir}` : hostPort(target.host, target.port);
  const check = (result) => {
    if (result.code === 0) return;
    // The tool colours its log levels; a journal or a test report wants plain text.
    const output = result.output.replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").slice(-15).join("\n");
    throw new TopologyError(
      `temporal-sql-tool ${result.what} failed (exit ${result.code}). Is PostgreSQL up at ${where}, and may ${target.user} ` +
        `log in there${result.what.startsWith("create") ? " and create databases (or were they created for it)" : ""}?\n${output}`,
    );
  };
  for (const [database, schemaName] of [[databases.main, "postgresql/v12/temporal"], [databases.visibility, "postgresql/v12/visibility"]]) {
    // The tool takes PostgreSQL's "already exists" (42P04) as success, so this is safe on every start. A role
    // without CREATEDB is refused before PostgreSQL looks for the database: a DBA may have created it for the role,
    // and setup-schema says plainly if not.
    const create = await run(database, ["create-database", ...(target.adminDatabase ? ["--defaultdb", target.adminDatabase] : [])], `create-database ${database}`);
    if (create.code !== 0 && /permission denied to create database/.test(create.output)) {
      log(`${target.user} may not create databases: assuming ${database} was created for it`);
    } else {
      check(create);
    }
    check(await run(database, ["setup-schema", "-v", "0.0"], `setup-schema ${database}`));
    check(await run(database, ["update-schema", "--schema-name", schemaName], `update-schema ${database}`));
    log(`database ${database}: present, schema ${schemaName} up to date`);
  }
}

async function withConnection(address, fn) {
  // Imported here so that the build and setup steps work without node_modules.
  const { Connection } = await import("@temporalio/client");
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

const grpcCode = (error) => (typeof error === "object" && error !== null && "code" in error ? error.code : undefined);
const ALREADY_EXISTS = 6;

/**
 * Registers the namespace unless it exists (the production server creates none; the dev server's `default` is
 * its own doing), then waits until a workflow call on it works: a new namespace is only usable once every
 * service's namespace cache has seen it.
 */
export async function ensureNamespace({ address, namespace, retentionDays, log = () => undefined, timeoutMs = 60_000 }) {
  await withConnection(address, async (connection) => {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        description: "Atomic task workflows",
        workflowExecutionRetentionPeriod: { seconds: retentionDays * 86_400 },
      });
      log(`registered namespace ${namespace} (history kept ${retentionDays} days after a workflow closes)`);
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw error;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await connection.workflowService.countWorkflowExecutions({ namespace, query: "" });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new TopologyError(`namespace ${namespace} was registered but not usable after ${timeoutMs} ms: ${error.message}`);
        await delay(250);
      }
    }
  });
}

/** True once the frontend answers its gRPC health check with SERVING. */
export async function frontendServing(address) {
  try {
    return await withConnection(address, async (connection) => {
      const response = await connection.healthService.check({ service: "temporal.api.workflowservice.v1.WorkflowService" });
      return response.status === 1;
    });
  } catch {
    return false;
  }
}

/**
 * Stops a server that a previous supervisor started in workDir and left behind when it was killed outright
 * (SIGKILL, OOM): it would keep the ports, and a second server on the same databases is not what anyone wants.
 * Only a process whose command line runs `binary` is touched, so a reused pid is left alone.
 */
export async function stopLeftoverServer({ workDir, binary, log = () => undefined }) {
  const pidFile = join(workDir, "temporal-server.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone, or not Linux: nothing to do
  }
  if (!cmdline.split("\0").includes(binary)) return;
  log(`stopping temporal-server pid ${pid}, left running by an earlier supervisor`);
  for (const [signal, waitMs] of [["SIGTERM", 10_000], ["SIGKILL", 5_000]]) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < waitMs; waited += 50) {
      if (!existsSync(`/proc/${pid}`)) return;
      await delay(50);
    }
  }
}

/** The server's JSON log lines without their stack traces: level, message and error, for a person to read. */
export function summariseLog(lines) {
  return lines.map((line) => {
    try {
      const entry = JSON.parse(line);
      return [entry.level, entry.msg, entry.error].filter(Boolean).join(": ");
    } catch {
      return line;
    }
  }).join("\n");
}

const STABLE_AFTER_MS = 60_000;
const TAIL_LINES = 60;

/**
 * Starts `temporal-server --config-file <template> start` and keeps it running: a server that dies is started
 * again after a growing delay (0.5 s doubling to 30 s; back to 0.5 s once one ran a minute). Each start is "ready"
 * when the frontend answers healthy and the namespace works; `onEvent` hears ready/exited/restart-failed. Resolves
 * once the first start is ready; rejects with the server's last output if it fails.
 */
export async function superviseServer(options) {
  const {
    binary, configTemplate = DEFAULT_CONFIG_TEMPLATE, workDir, env: serverEnv, address, namespace = "default",
    retentionDays = 7, logFile, startTimeoutMs = 180_000, stopTimeoutMs = 30_000, onEvent = () => undefined,
    log = () => undefined,
  } = options;
  if (!existsSync(configTemplate)) throw new TopologyError(`config template ${configTemplate} does not exist`);
  const pidFile = join(workDir, "temporal-server.pid");
  await stopLeftoverServer({ workDir, binary, log });
  const logStream = logFile === "-" ? process.stderr : createWriteStream(logFile, { flags: "a", mode: 0o640 });
  const args = ["--config-file", resolve(configTemplate), "--allow-no-auth", "start"];
  // PG* variables meant for other programs would change how the server's libpq connects; the config says it all.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PG")));

  let child;
  let stopping = false;
  let incarnation = 0;
  let restartDelay = 500;
  let readyAt = 0;
  let tail = [];
  let restartTimer;

  const launch = () => {
    const number = ++incarnation;
    tail = [];
    const proc = spawn(binary, args, { cwd: workDir, env: { ...inherited, ...serverEnv }, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    if (proc.pid) writeFileSync(pidFile, `${proc.pid}\n`);
    let partial = "";
    const collect = (chunk) => {
      if (logStream !== process.stderr || !stopping) logStream.write(chunk);
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      tail.push(...lines.filter((line) => line.trim()));
      if (tail.length > TAIL_LINES) tail = tail.slice(-TAIL_LINES);
    };
    proc.stdout.setEncoding("utf8").on("data", collect);
    proc.stderr.setEncoding("utf8").on("data", collect);
    let exited;
    let spawnError;
    proc.once("error", (error) => (spawnError = error));
    proc.once("exit", (code, signal) => {
      exited = { code, signal };
      if (child === proc) child = undefined;
      rmSync(pidFile, { force: true });
      onEvent({ event: "exited", pid: proc.pid, code, signal, incarnation: number });
      if (stopping) return;
      // A first start that fails is reported to the caller rather than retried: it is a configuration problem.
      if (readyAt === 0) return;
      log(`temporal-server pid ${proc.pid} exited (${signal ?? `code ${code}`}); restarting${tail.length > 0 ? `. Last output:\n${summariseLog(tail.slice(-5))}` : ""}`);
      scheduleRestart();
    });
    return (async () => {
      const deadline = Date.now() + startTimeoutMs;
      const failIfGone = () => {
        if (spawnError) throw new TopologyError(`could not run ${binary}: ${spawnError.message}`);
        if (exited) throw new TopologyError(`temporal-server exited during start (${exited.signal ?? `code ${exited.code}`}):\n${summariseLog(tail.slice(-25))}`);
        if (stopping) throw new TopologyError("stopped while starting");
      };
      for (;;) {
        failIfGone();
        if (await frontendServing(address)) break;
        if (Date.now() > deadline) {
          proc.kill("SIGKILL");
          throw new TopologyError(`temporal-server did not answer on ${address} within ${startTimeoutMs} ms:\n${summariseLog(tail.slice(-25))}`);
        }
        await delay(250);
      }
      await ensureNamespace({ address, namespace, retentionDays, log, timeoutMs: Math.max(10_000, deadline - Date.now()) });
      failIfGone();
      readyAt = Date.now();
      onEvent({ event: "ready", address, namespace, pid: proc.pid, incarnation: number });
    })();
  };

  const scheduleRestart = () => {
    if (readyAt > 0 && Date.now() - readyAt > STABLE_AFTER_MS) restartDelay = 500;
    const wait = restartDelay;
    restartDelay = Math.min(restartDelay * 2, 30_000);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      // A failed restart's process exits (a timeout kills it) and that exit schedules the next try.
      launch().catch((error) => onEvent({ event: "restart-failed", error: error.message, incarnation }));
    }, wait);
  };

  const stop = async () => {
    stopping = true;
    if (restartTimer) clearTimeout(restartTimer);
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((resolveExit) => proc.once("exit", resolveExit));
      // SIGTERM is the server's own graceful stop: it leaves the membership ring and releases its shards.
      proc.kill("SIGTERM");
      const timer = setTimeout(() => {
        log(`temporal-server ignored SIGTERM for ${stopTimeoutMs} ms; killing it`);
        proc.kill("SIGKILL");
      }, stopTimeoutMs);
      await gone;
      clearTimeout(timer);
    }
    rmSync(pidFile, { force: true });
    if (logStream !== process.stderr) await new Promise((resolveEnd) => logStream.end(resolveEnd));
  };

  try {
    await launch();
  } catch (error) {
    stopping = true;
    child?.kill("SIGKILL");
    rmSync(pidFile, { force: true });
    throw error;
  }
  return { pid: () => child?.pid, stop };
}
