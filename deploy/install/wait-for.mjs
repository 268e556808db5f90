#!/usr/bin/env node
/**
 * Readiness checks the systemd units run as ExecStartPost, so that a unit ordered after PostgreSQL or Temporal
 * starts only once that service answers (rather than failing and being restarted until it does):
 *
 *   wait-for.mjs postgres PGDATA                 the postmaster in PGDATA reports "ready" in postmaster.pid
 *   wait-for.mjs temporal HOST:PORT              the server's default namespace can be described
 *
 * (`temporal TEMPORAL-CLI HOST:PORT`, the form of older units, is accepted; the CLI is not used.) Only local files
 * and loopback are consulted. Exit 0 when ready, 1 on timeout or when the server died.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:http2";
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

/**
 * WorkflowService/DescribeNamespace("default") over gRPC (HTTP/2 without TLS, as Temporal listens on loopback), what
 * `temporal operator namespace describe` asks: with it the bundle needs no Temporal CLI beside the production
 * server. The request is the one-field protobuf message {namespace: "default"}, framed as gRPC frames it.
 */
function temporalState(address) {
  return new Promise((resolve) => {
    let status;
    const session = connect(`http://${address}`);
    const done = (state) => {
      session.destroy();
      resolve(state);
    };
    session.once("error", () => done("starting"));
    session.setTimeout(10_000, () => done("starting"));
    const namespace = Buffer.from("default");
    const message = Buffer.concat([Buffer.from([0x0a, namespace.length]), namespace]);
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    const request = session.request({
      ":method": "POST", ":path": "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace", "content-type": "application/grpc", te: "trailers",
    });
    request.once("error", () => done("starting"));
    // A failure may come as headers only (trailers-only response); a success as trailers after the message.
    request.once("response", (headers) => { status ??= headers["grpc-status"]; });
    request.once("trailers", (trailers) => { status = trailers["grpc-status"]; });
    request.on("data", () => {});
    request.once("close", () => done(status === "0" ? "ready" : "starting"));
    request.end(Buffer.concat([frame, message]));
  });
}

const [kind, ...args] = process.argv.slice(2);
const check = kind === "postgres" && args.length === 1 ? () => postgresState(args[0])
  : kind === "temporal" && (args.length === 1 || args.length === 2) ? () => temporalState(args.at(-1))
    : null;
if (check === null) {
  process.stderr.write("usage: wait-for.mjs postgres PGDATA | temporal HOST:PORT\n");
  process.exit(2);
}
const deadline = Date.now() + TIMEOUT_MS;
for (;;) {
  const state = await check();
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
