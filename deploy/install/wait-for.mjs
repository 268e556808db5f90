#!/usr/bin/env node
/**
 * Readiness checks the systemd units run as ExecStartPost, so that a unit ordered after PostgreSQL or Temporal
 * starts only once that service answers (rather than failing and being restarted until it does):
 *
 *   wait-for.mjs postgres PGDATA                 the postmaster in PGDATA reports "ready" in postmaster.pid
 *   wait-for.mjs temporal TEMPORAL-CLI HOST:PORT  the server's default namespace can be described
 *
 * Only local files and loopback are consulted. Exit 0 when ready, 1 on timeout or when the server died.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const TIMEOUT_MS = Number(process.env.ATOMIC_WAIT_TIMEOUT_MS ?? 120_000);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/**
 * postmaster.pid's first line is the server's pid; its eighth (PostgreSQL ≥ 10) its state, "ready" once it
 * accepts connections. Reading the file needs no client library and no credentials.
 */
function postgresState(pgdata) {
  let lines;
  try {
    lines = readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return "starting";
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return "starting";
  if (!alive(pid)) return "dead";
  return (lines[7] ?? "").trim() === "ready" ? "ready" : "starting";
}

function temporalState(cli, address) {
  const result = spawnSync(cli, ["operator", "namespace", "describe", "--namespace", "default", "--address", address], {
    stdio: "ignore",
    timeout: 10_000,
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: "1" },
  });
  return result.status === 0 ? "ready" : "starting";
}

const [kind, ...args] = process.argv.slice(2);
const check = kind === "postgres" && args.length === 1 ? () => postgresState(args[0])
  : kind === "temporal" && args.length === 2 ? () => temporalState(args[0], args[1])
    : null;
if (check === null) {
  process.stderr.write("usage: wait-for.mjs postgres PGDATA | temporal TEMPORAL-CLI HOST:PORT\n");
  process.exit(2);
}
const deadline = Date.now() + TIMEOUT_MS;
for (;;) {
  const state = check();
  if (state === "ready") process.exit(0);
  if (state === "dead") {
    process.stderr.write(`wait-for: ${kind} exited before it was ready\n`);
    process.exit(1);
  }
  if (Date.now() > deadline) {
    process.stderr.write(`wait-for: ${kind} not ready after ${TIMEOUT_MS} ms\n`);
    process.exit(1);
  }
  await delay(200);
}
