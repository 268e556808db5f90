#!/usr/bin/env node
/**
 * What an operator does on an air-gapped host, in order, run by test/bundle/offline-install.test.ts inside a
 * network namespace with loopback only (and under strace): unpack the first bundle (which carries a model of the
 * family), install it, carry in a model of the site's own, start the all-in-one units, ask for a chat completion
 * and a real question to the carried model, export and verify the audit log, stop; then install the second bundle
 * (no models) over it, start again, check that data, keys, the carried model and the audit log survived (the new
 * export extends the old checkpoint), and roll back. Each step's outcome and time go to the report file; the
 * test asserts on it. Plain JavaScript run by the host's node: this is the operator, not the appliance.
 *
 *   node scenario.mjs PLAN.json     PLAN: {work, releaseKey, gguf, family: {id, file, licences}, report,
 *                                          bundles: [{version, tarball}, ...]}
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
// The runner shipped with the release (deploy/install/units.mjs): it executes the units' [Service] lines.
import { startUnit, stopUnit } from "../../../deploy/install/units.mjs";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const prefix = join(plan.work, "opt", "atomic");
const data = join(prefix, "var");
const systemdDir = join(plan.work, "systemd");
const logDir = join(plan.work, "logs");
mkdirSync(logDir, { recursive: true });
const GATEWAY = "http://127.0.0.1:8080";
const MODEL_ID = "tiny-chat";
const QUESTION = "What is the capital of France? Answer in one word.";

const report = { steps: [], facts: {} };
const save = () => writeFileSync(plan.report, `${JSON.stringify(report, null, 2)}\n`);

async function step(name, fn) {
  const started = performance.now();
  process.stdout.write(`scenario: ${name} ...\n`);
  try {
    const result = await fn();
    const ms = Math.round(performance.now() - started);
    report.steps.push({ name, ok: true, ms, ...(result === undefined ? {} : { result }) });
    process.stdout.write(`scenario: ${name}: ok (${(ms / 1000).toFixed(1)} s)\n`);
    save();
    return result;
  } catch (error) {
    const ms = Math.round(performance.now() - started);
    report.steps.push({ name, ok: false, ms, error: error.stack ?? String(error) });
    process.stdout.write(`scenario: ${name}: FAILED (${error.message})\n`);
    save();
    throw error;
  }
}

function sh(command, args, { allowFail = false, env } = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", env: env ?? { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" }, maxBuffer: 64 << 20 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  writeFileSync(join(logDir, "commands.log"), `\n$ ${command} ${args.join(" ")}\n${output}`, { flag: "a" });
  if (!allowFail && result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}:\n${output.slice(-4000)}`);
  return { status: result.status, output, stdout: result.stdout ?? "" };
}

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const atomic = (...args) => sh(join(prefix, "bin", "atomic"), args);

function unpack(bundle, index) {
  const dir = join(plan.work, `unpacked-${index}`);
  mkdirSync(dir, { recursive: true });
  sh("tar", ["-xzf", bundle.tarball, "-C", dir]);
  const [top] = readdirSync(dir);
  return join(dir, top);
}

async function waitReady(timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${GATEWAY}/readyz`);
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return last;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await delay(500);
  }
  throw new Error(`gateway not ready after ${timeoutMs} ms: ${last}`);
}

function adminKey() {
  return readFileSync(join(data, "admin-api-key"), "utf8").trim();
}

async function api(method, path, body) {
  const response = await fetch(`${GATEWAY}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, json, text, headers: response.headers };
}

async function chat(content, { model = MODEL_ID, maxTokens = 8 } = {}) {
  const response = await api("POST", "/v1/chat/completions", { model, messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0 });
  if (response.status !== 200) throw new Error(`chat completion answered ${response.status}: ${response.text}`);
  const choice = response.json.choices?.[0];
  if (response.json.object !== "chat.completion" || typeof choice?.message?.content !== "string" || !response.json.usage) {
    throw new Error(`not a chat completion: ${response.text}`);
  }
  return {
    executionId: response.headers.get("x-atomic-execution-id"), completionTokens: response.json.usage.completion_tokens, finish: choice.finish_reason,
    content: choice.message.content,
  };
}

/** The question a real model must get right, asked of the model the bundle carried; with the digest it is listed by. */
async function askCarriedModel() {
  const models = await api("GET", "/v1/models");
  const listed = models.json?.data?.find((m) => m.id === plan.family.id);
  if (!listed) throw new Error(`GET /v1/models does not list the carried ${plan.family.id}: ${models.text}`);
  return { ...(await chat(QUESTION, { model: plan.family.id, maxTokens: 16 })), modelDigest: listed.atomic?.sha256 ?? null };
}

/** What the current release carries: the ids its models/manifest.json pins and the licence files beside them. */
function carriedFamily() {
  const folder = join(prefix, "current", "models");
  const manifest = join(folder, "manifest.json");
  return {
    carried: existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")).models.map((m) => m.id) : [],
    licences: plan.family.licences.filter((name) => existsSync(join(folder, "licences", plan.family.id, name))),
  };
}

const UNITS = ["atomic-postgres.service", "atomic-temporal.service", "atomic-gateway.service", "atomic-worker.service"];
let running = [];

async function startAll(units = UNITS) {
  for (const unit of units) running.push(await startUnit(join(systemdDir, unit), logDir));
}

async function stopAll() {
  const statuses = {};
  for (const unit of [...running].reverse()) statuses[unit.name] = await stopUnit(unit);
  running = [];
  return statuses;
}

/**
 * The operator's way without systemd: <prefix>/bin/atomic-up in the foreground, stopped with SIGTERM. Its own
 * output goes to logs/atomic-up.log; the services' to <data>/logs/<unit>.log, as INSTALL.md says.
 */
let up = null;
function startUp() {
  const out = openSync(join(logDir, "atomic-up.log"), "a");
  // --ignore-systemd: a test host may run systemd, which knows nothing of these units.
  const child = spawn(join(prefix, "bin", "atomic-up"), ["--ignore-systemd"], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" }, stdio: ["ignore", out, out] });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  up = { child, exited };
  return up;
}

async function stopUp() {
  if (!up) return null;
  const { child, exited } = up;
  up = null;
  child.kill("SIGTERM");
  return exited;
}

/** Exits a unit made on its own (a crash) before it was asked to stop. */
function unexpectedExits() {
  return running.filter((u) => u.exitStatus !== null).map((u) => `${u.name}: ${JSON.stringify(u.exitStatus)}`);
}

function keyDigests() {
  return Object.fromEntries(readdirSync(join(data, "keys")).filter((n) => !n.startsWith(".")).map((n) => [n, sha256(join(data, "keys", n))]));
}

function verifyExport(dir, extra = []) {
  // The standalone verifier, with the bundled node: no database, no network.
  const standalone = sh(join(prefix, "current", "node", "bin", "node"), [join(prefix, "current", "app", "audit", "verify.mjs"), dir, "--key", join(data, "keys", "audit-signing.pub.jwk"), ...extra]);
  const viaCli = atomic("audit", "verify", dir, "--key", join(data, "keys", "audit-signing.pub.jwk"), ...extra);
  const match = /entries \[(\d+), (\d+)\)/.exec(standalone.stdout);
  if (!standalone.stdout.startsWith("OK:") || !viaCli.stdout.startsWith("OK:") || !match) throw new Error(`export ${dir} does not verify: ${standalone.output} / ${viaCli.output}`);
  return { verdict: standalone.stdout.trim(), from: Number(match[1]), to: Number(match[2]) };
}

async function main() {
  const [first, second] = plan.bundles;
  let firstRun;

  // ---------------------------------------------------------------- fresh install
  const bundleDir = await step(`unpack ${first.version}`, () => unpack(first, 1));
  await step(`install ${first.version} (verify, account, first run)`, () => {
    const out = sh(join(bundleDir, "install"), [
      "--release-key", plan.releaseKey, "--prefix", prefix, "--systemd-dir", systemdDir, "--no-systemctl",
      "--egress-probe", "127.0.0.1:9", "--audit-origin", "smoke.test/atomic/audit",
    ]);
    return { tail: out.output.trim().split("\n").slice(-12) };
  });
  report.facts.installed = {
    current: readlinkSync(join(prefix, "current")),
    signingKeyMode: (spawnSync("stat", ["-c", "%a %U", join(data, "keys", "audit-signing.pem")], { encoding: "utf8" }).stdout.trim()),
    keysDirMode: (spawnSync("stat", ["-c", "%a %U", join(data, "keys")], { encoding: "utf8" }).stdout.trim()),
    dataDirMode: (spawnSync("stat", ["-c", "%a %U", data], { encoding: "utf8" }).stdout.trim()),
    releaseOwner: (spawnSync("stat", ["-c", "%a %U", join(prefix, "current", "app", "dist", "cli", "main.js")], { encoding: "utf8" }).stdout.trim()),
    units: readdirSync(systemdDir).sort(),
    temporal: JSON.parse(readFileSync(join(prefix, "etc", "install.json"), "utf8")).temporal,
    systemdAnalyze: sh("systemd-analyze", ["verify", ...readdirSync(systemdDir).map((u) => join(systemdDir, u))], { allowFail: true }),
    family: {
      prefix,
      configured: JSON.parse(readFileSync(join(prefix, "etc", "atomic.config.json"), "utf8")).models.family,
      modelOwner: (spawnSync("stat", ["-c", "%a %U", join(prefix, "current", "models", plan.family.file)], { encoding: "utf8" }).stdout.trim()),
      ...carriedFamily(),
    },
  };
  await step("carry in a model and pin it (atomic models add)", () => {
    const target = join(data, "models", `${MODEL_ID}.gguf`);
    copyFileSync(plan.gguf, target);
    const account = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("atomic:")).split(":");
    chownSync(target, Number(account[2]), Number(account[3]));
    const out = atomic("models", "add", target, "--id", MODEL_ID, "--capabilities", "chat,completion", "--parallel", "1");
    return { pinned: out.stdout.trim(), sha256: sha256(target) };
  });
  await step("start the all-in-one units (postgres, temporal, gateway, worker)", async () => {
    await startAll();
    return { readyz: await waitReady() };
  });
  await step(`chat completion on ${first.version}`, async () => {
    const models = await api("GET", "/v1/models");
    const listed = models.json?.data?.find((m) => m.id === MODEL_ID);
    if (!listed) throw new Error(`GET /v1/models does not list ${MODEL_ID}: ${models.text}`);
    firstRun = await chat("Hello from before the upgrade");
    return { ...firstRun, modelDigest: listed.atomic?.sha256 ?? listed.atomic?.digest ?? null };
  });
  await step(`a real question to ${plan.family.id} on ${first.version}`, () => askCarriedModel());
  await step("worker and Temporal stay up", async () => {
    await delay(3000);
    const exits = unexpectedExits();
    if (exits.length) throw new Error(`units exited: ${exits.join("; ")}`);
    const workerLog = readFileSync(join(logDir, "atomic-worker.service.log"), "utf8");
    if (!/atomic worker \S+ on 127\.0\.0\.1:7233/.test(workerLog)) throw new Error(`the worker did not report its queues:\n${workerLog.slice(-2000)}`);
    const temporalLog = readFileSync(join(logDir, "atomic-temporal.service.log"), "utf8");
    // The production server's supervisor reports readiness as a JSON event line on its stdout.
    const serverReady = temporalLog.split("\n").find((l) => l.startsWith('{"event":"ready"')) ?? null;
    if (report.facts.installed.temporal === "server" && !serverReady) throw new Error(`the Temporal server did not report ready:\n${temporalLog.slice(-3000)}`);
    return { worker: workerLog.match(/atomic worker .*/)[0], temporal: serverReady ?? "dev server" };
  });
  // Events are sequenced into the tree in batches; give the last ones a moment to be sequenced.
  await delay(1500);
  const exportOne = await step("export the audit log and verify it offline", () => {
    atomic("audit", "export", "--out", join(data, "exports", "before-upgrade"));
    return verifyExport(join(data, "exports", "before-upgrade"));
  });
  await step("stop the units", async () => {
    const statuses = await stopAll();
    for (const [name, status] of Object.entries(statuses)) {
      if (status.timedOut) throw new Error(`${name} did not stop within its TimeoutStopSec`);
    }
    return statuses;
  });

  // ---------------------------------------------------------------- upgrade
  const keysBefore = keyDigests();
  const manifestBefore = sha256(join(data, "models", "manifest.json"));
  const configBefore = sha256(join(prefix, "etc", "atomic.config.json"));
  const adminKeyBefore = adminKey();
  const secondDir = await step(`unpack ${second.version}`, () => unpack(second, 2));
  await step(`upgrade to ${second.version} (release key pinned at the first install)`, () => {
    const out = sh(join(secondDir, "install"), ["--prefix", prefix, "--no-systemctl"]);
    return { tail: out.output.trim().split("\n").slice(-10) };
  });
  report.facts.upgraded = {
    current: readlinkSync(join(prefix, "current")),
    previous: readlinkSync(join(prefix, "previous")),
    keysKept: JSON.stringify(keyDigests()) === JSON.stringify(keysBefore),
    manifestKept: sha256(join(data, "models", "manifest.json")) === manifestBefore,
    configKept: sha256(join(prefix, "etc", "atomic.config.json")) === configBefore,
    adminKeyKept: adminKey() === adminKeyBefore,
    backups: existsSync(join(data, "backups")) ? readdirSync(join(data, "backups")) : [],
    history: readFileSync(join(prefix, "etc", "install-history.log"), "utf8").trim().split("\n"),
    family: {
      ...carriedFamily(),
      // Kept by linking, not copying: the upgrade's release and the previous one share the file.
      sameFileAsPrevious: statSync(join(prefix, "current", "models", plan.family.file)).ino === statSync(join(prefix, "previous", "models", plan.family.file)).ino,
    },
  };
  await step(`start ${second.version}`, async () => {
    await startAll();
    return { readyz: await waitReady() };
  });
  await step(`chat completion on ${second.version}, and the record from ${first.version} still there`, async () => {
    const after = await chat("Hello from after the upgrade");
    const old = await api("GET", `/v1/executions/${firstRun.executionId}`);
    if (old.status !== 200) throw new Error(`the execution recorded before the upgrade answers ${old.status}: ${old.text}`);
    return { ...after, oldExecution: old.json?.id ?? firstRun.executionId };
  });
  await step(`a real question to ${plan.family.id} on ${second.version}`, () => askCarriedModel());
  await delay(1500);
  await step("export the whole audit log and verify it extends the pre-upgrade checkpoint", () => {
    const dir = join(data, "exports", "after-upgrade");
    atomic("audit", "export", "--out", dir, "--previous-size", String(exportOne.to));
    const verdict = verifyExport(dir, ["--previous", join(data, "exports", "before-upgrade", "checkpoint")]);
    if (verdict.from !== 0 || verdict.to <= exportOne.to) throw new Error(`the export after the upgrade covers [${verdict.from}, ${verdict.to}), before it [0, ${exportOne.to})`);
    if (!/extends size \d+ .*checked against the previous checkpoint/.test(verdict.verdict)) throw new Error(`consistency with the pre-upgrade checkpoint not checked: ${verdict.verdict}`);
    return verdict;
  });
  await step("stop the units", async () => stopAll());

  // ---------------------------------------------------------------- rollback
  await step(`roll back to ${first.version}`, () => {
    const out = sh(join(prefix, "current", "install"), ["rollback", "--prefix", prefix]);
    return { current: readlinkSync(join(prefix, "current")), previous: readlinkSync(join(prefix, "previous")), tail: out.output.trim().split("\n").slice(-3) };
  });
  await step(`${first.version} serves again after the rollback (started by atomic-up, stopped by SIGTERM)`, async () => {
    startUp();
    await waitReady();
    const again = await chat("Hello after the rollback");
    const family = await askCarriedModel();
    const upExit = await stopUp();
    const pgLeft = existsSync(join(data, "postgres", "postmaster.pid"));
    const upLog = readFileSync(join(logDir, "atomic-up.log"), "utf8").trim().split("\n");
    if (upExit !== 0 || pgLeft) throw new Error(`atomic-up exited with ${upExit}${pgLeft ? ", PostgreSQL still running" : ""}:\n${upLog.slice(-20).join("\n")}`);
    if (!existsSync(join(data, "logs", "atomic-gateway.service.log"))) throw new Error("atomic-up wrote no service log in <data-dir>/logs");
    return { ...again, family, upExit, upLog: upLog.slice(-8) };
  });
}

main().then(
  () => {
    report.ok = true;
    save();
    process.exit(0);
  },
  async (error) => {
    report.ok = false;
    report.error = error.stack ?? String(error);
    save();
    await stopAll().catch(() => undefined);
    await stopUp();
    process.exit(1);
  },
);
