#!/usr/bin/env node
/**
 * Starts Atomic's services where systemd is not running, from the very unit files the installer wrote (installed
 * as `<prefix>/bin/atomic-up`; INSTALL.md section 4):
 *
 *   atomic-up [--prefix DIR] [--systemd-dir DIR] [--log-dir DIR] [--ignore-systemd]
 *
 * It reads the installation's choices from <prefix>/etc/install.json, takes the services atomic.target wants,
 * starts them in their After= order as their User= (PostgreSQL, Temporal, then the gateway and the worker), each
 * once the one before passed its readiness check, restarts one that exits as its Restart= lines say (with a growing
 * wait), and on SIGTERM or SIGINT stops them in reverse order and exits. It stays in the foreground; its events go
 * to its standard output, each service's output to <log-dir>/<unit>.log (default <data-dir>/logs).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSupervisor } from "./supervisor.mjs";
import { systemdRunning } from "./system.mjs";
import { unitsOfTarget } from "./units.mjs";

const USAGE = `usage: atomic-up [--prefix DIR] [--systemd-dir DIR] [--log-dir DIR] [--ignore-systemd]

  --prefix DIR        the installation (default /opt/atomic); its etc/install.json names the rest
  --systemd-dir DIR   where the units are (default: the one the installer wrote them to)
  --log-dir DIR       where each service's output goes, <unit>.log (default <data-dir>/logs)
  --ignore-systemd    run even though systemd is running here (two supervisors would fight over one cluster)

Runs in the foreground; stop it with SIGTERM or Ctrl-C (SIGINT): the services stop in reverse order.`;

const say = (line) => process.stdout.write(`${new Date().toISOString()} atomic-up: ${line}\n`);

function fail(message, code = 1) {
  process.stderr.write(`atomic-up: ${message}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      prefix: { type: "string", default: "/opt/atomic" },
      "systemd-dir": { type: "string" },
      "log-dir": { type: "string" },
      "ignore-systemd": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  fail(`${error.message}\n${USAGE}`, 2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const prefix = values.prefix.replace(/\/+$/, "");
const recordFile = join(prefix, "etc", "install.json");
if (!existsSync(recordFile)) fail(`${recordFile} is missing: ${prefix} holds no installation made by the installer (--prefix)`);
const record = JSON.parse(readFileSync(recordFile, "utf8"));
if (systemdRunning() && !values["ignore-systemd"]) {
  fail("systemd is running on this host: start Atomic with systemctl start atomic.target (or pass --ignore-systemd)");
}
const target = join(values["systemd-dir"] ?? record.systemdDir, "atomic.target");
if (!existsSync(target)) fail(`${target} is missing: the installer writes it (--systemd-dir)`);
const logDir = values["log-dir"] ?? join(record.dataDir, "logs");

let supervisor;
try {
  mkdirSync(logDir, { recursive: true, mode: 0o750 });
  supervisor = createSupervisor({ unitFiles: unitsOfTarget(target), logDir, say });
} catch (error) {
  fail(error.message);
}

let signalled = false;
const shutdown = (signal) => {
  if (signalled) return say(`${signal} again: still stopping, each service within its TimeoutStopSec=`);
  signalled = true;
  say(`${signal}: stopping ${[...supervisor.order].reverse().join(", ")}`);
  supervisor.stop().then(() => {
    say("all stopped");
    process.exit(0);
  });
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGHUP", () => undefined);
// Child processes keep the event loop alive; it empties only when every service is down and none is to restart.
process.on("beforeExit", () => {
  if (signalled) return;
  say("every service has exited and none is to be restarted (see the lines above and the logs)");
  process.exit(1);
});

say(`starting ${supervisor.order.join(", ")} from ${target}; service output in ${logDir}`);
try {
  await supervisor.start();
  if (!signalled) say("all started; SIGTERM or Ctrl-C stops them");
} catch (error) {
  say(`start failed: ${error.message}`);
  await supervisor.stop();
  process.exit(1);
}
