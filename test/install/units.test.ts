import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript shipped in the bundle, without declarations
import { renderUnit, templateFor, unitsFor } from "../../deploy/install/render.mjs";
// @ts-expect-error plain JavaScript shipped in the bundle, without declarations
import { createSupervisor } from "../../deploy/install/supervisor.mjs";
// @ts-expect-error plain JavaScript shipped in the bundle, without declarations
import { loadService, restartDelayMs, shouldRestart, startOrder, unitsOfTarget } from "../../deploy/install/units.mjs";

/**
 * The runner that starts the installed units without systemd (deploy/install/units.mjs, supervisor.mjs, up.mjs):
 * a fake unit set in a temporary folder whose services are real Node.js processes, run as the current account (no
 * root needed). Each service appends what it saw to events.log, which the tests read.
 */
const NODE = process.execPath;
const ME = userInfo().username;
let dir: string;
let events: string;

/** A service: records its start (environment, folder, umask, which peers were ready), then does what argv says. */
const SERVICE = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
const [events, name, mode, arg] = process.argv.slice(2);
const dir = events.replace(/\\/events\\.log$/, "");
const note = (line) => appendFileSync(events, line + "\\n");
note("start " + name + " " + JSON.stringify({
  foo: process.env.FOO, fromFile: process.env.FROM_FILE, home: process.env.HOME, cwd: process.cwd(),
  umask: process.umask().toString(8), ready: ["db", "queue"].filter((n) => existsSync(dir + "/" + n + ".ready")),
}));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => { note("stop " + name + " " + signal); process.exit(0); });
if (mode === "ready-after") setTimeout(() => writeFileSync(dir + "/" + name + ".ready", ""), Number(arg));
if (mode === "fail-times") {
  const counter = dir + "/" + name + ".count";
  const count = (existsSync(counter) ? Number(readFileSync(counter, "utf8")) : 0) + 1;
  writeFileSync(counter, String(count));
  if (count <= Number(arg)) setTimeout(() => process.exit(1), 300);
}
if (mode === "exit") setTimeout(() => process.exit(Number(arg)), 300);
setInterval(() => {}, 1000);
`;
/** ExecStartPost: waits for a service's ready file, as wait-for.mjs waits for PostgreSQL. */
const WAIT = `
import { existsSync } from "node:fs";
const deadline = Date.now() + 5000;
while (!existsSync(process.argv[2])) { if (Date.now() > deadline) process.exit(1); await new Promise((r) => setTimeout(r, 20)); }
`;

function unit(name: string, { after = "", service, extra = "" }: { after?: string; service: string; extra?: string }): string {
  const file = join(dir, "units", name);
  writeFileSync(file, `# a test unit
[Unit]
Description=${name}
After=local-fs.target ${after}

[Service]
Type=simple
User=${ME}
UMask=0027
Environment=FOO=bar "SPACED=a b"
EnvironmentFile=${join(dir, "env")}
EnvironmentFile=-${join(dir, "absent.env")}
WorkingDirectory=${dir}
ExecStart=${NODE} ${join(dir, "service.mjs")} ${events} ${service}
${extra}
KillMode=mixed
IPAddressDeny=any
NoNewPrivileges=yes
`);
  return file;
}

/** The unit set of an all-in-one install in miniature: the target lists them out of order; After= orders them. */
function unitSet(worker: string): string {
  unit("t-db.service", { service: "db ready-after 300", extra: `ExecStartPost=${NODE} ${join(dir, "wait.mjs")} ${join(dir, "db.ready")}\nKillSignal=SIGINT\nRestart=on-failure\nRestartSec=50ms` });
  unit("t-queue.service", { after: "t-db.service", service: "queue ready-after 100", extra: `ExecStartPost=${NODE} ${join(dir, "wait.mjs")} ${join(dir, "queue.ready")}\nRestart=on-failure` });
  unit("t-api.service", { after: "t-queue.service t-db.service", service: "api", extra: "Restart=on-failure\nRestartSec=0.05\nTimeoutStopSec=5" });
  unit("t-worker.service", { after: "t-queue.service t-db.service", service: worker, extra: "Restart=on-failure\nRestartSec=50ms\nRestartPreventExitStatus=2 78" });
  const target = join(dir, "units", "t.target");
  writeFileSync(target, "[Unit]\nDescription=all\nWants=t-worker.service t-api.service t-queue.service\nWants=t-db.service\n");
  return target;
}

const lines = () => (existsSync(events) ? readFileSync(events, "utf8").trim().split("\n") : []);
async function until(what: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out; events:\n${lines().join("\n")}`);
    await delay(25);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-units-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Supervisors a test made: stopped even when it failed half-way, so that no service outlives its test. */
const made: Array<{ stop: () => Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((s) => s.stop()));
});
function supervise(options: Record<string, unknown>) {
  const supervisor = createSupervisor(options);
  made.push(supervisor);
  return supervisor;
}

function fresh(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "units"), { recursive: true });
  mkdirSync(join(dir, "logs"));
  events = join(dir, "events.log");
  writeFileSync(join(dir, "service.mjs"), SERVICE);
  writeFileSync(join(dir, "wait.mjs"), WAIT);
  writeFileSync(join(dir, "env"), '# EnvironmentFile=\nFROM_FILE="from the file"\nFOO=overridden-by-the-file\n');
}

describe("the unit parser", () => {
  it("reads the lines it emulates, ignores only the sandbox lines it names, and refuses any other", () => {
    fresh();
    const spec = loadService(unit("a.service", { service: "x", extra: `ExecStartPre=-${NODE} -e 0\nRestart=on-failure\nRestartSec=5\nRestartPreventExitStatus=2 78` }));
    expect(spec.user).toBe(ME);
    expect(spec.umask).toBe(0o027);
    expect(spec.environment).toEqual({ FOO: "bar", SPACED: "a b" });
    expect(spec.environmentFiles).toEqual([{ path: join(dir, "env"), optional: false }, { path: join(dir, "absent.env"), optional: true }]);
    expect(spec.exec).toEqual([NODE, join(dir, "service.mjs"), events, "x"]);
    expect(spec.pre).toEqual([{ argv: [NODE, "-e", "0"], ignoreFailure: true }]);
    expect(spec.after).toEqual(["local-fs.target"]);
    expect([spec.restart, spec.restartMs, [...spec.preventRestart]]).toEqual(["on-failure", 5000, ["2", "78"]]);
    expect(() => loadService(unit("b.service", { service: "x", extra: "MemoryMax=1G" }))).toThrow(/MemoryMax= is neither emulated nor knowingly ignored/);
    expect(() => loadService(unit("c.service", { service: "x", extra: "Restart=on-abnormal" }))).toThrow(/Restart=on-abnormal is not emulated/);
  });

  it("takes the services from the target's Wants= and orders them by After=, the given order breaking ties", () => {
    fresh();
    const files = unitsOfTarget(unitSet("worker"));
    expect(files.map((f: string) => f.split("/").pop())).toEqual(["t-worker.service", "t-api.service", "t-queue.service", "t-db.service"]);
    expect(startOrder(files.map(loadService)).map((s: { name: string }) => s.name)).toEqual(["t-db.service", "t-queue.service", "t-worker.service", "t-api.service"]);
    const a = { name: "a", after: ["b"] };
    const b = { name: "b", after: ["a"] };
    expect(() => startOrder([a, b])).toThrow(/cycle/);
  });

  it("runs the installer's own units, every [Service] line known, in the order postgres, temporal, gateway, worker", () => {
    fresh();
    for (const [profile, temporal] of [["all-in-one", "server"], ["all-in-one", "dev"], ["external-db", "dev"]]) {
      const options = { prefix: "/opt/atomic", dataDir: "/opt/atomic/var", user: ME, group: ME, temporalPort: 7233, clientNetworks: [], databaseNetworks: [], profile };
      for (const name of unitsFor(profile)) {
        writeFileSync(join(dir, "units", name), renderUnit(readFileSync(join("deploy/systemd", templateFor(name, temporal)), "utf8"), options));
      }
      const specs = unitsOfTarget(join(dir, "units", "atomic.target")).map(loadService);
      const expected = ["atomic-temporal.service", "atomic-gateway.service", "atomic-worker.service"];
      expect(startOrder(specs).map((s: { name: string }) => s.name), `${profile} ${temporal}`).toEqual(profile === "all-in-one" ? ["atomic-postgres.service", ...expected] : expected);
      // Each readiness check is the installed wait-for.mjs, and the next unit waits for it.
      expect(specs.find((s: { name: string }) => s.name === "atomic-temporal.service").post[0].argv[1]).toBe("/opt/atomic/current/installer/wait-for.mjs");
      rmSync(join(dir, "units"), { recursive: true });
      mkdirSync(join(dir, "units"));
    }
  });

  it("restarts as Restart= says, waiting longer after each failure in a row", () => {
    const spec = { restart: "on-failure", restartMs: 5000, preventRestart: new Set(["2", "78"]) };
    expect(shouldRestart(spec, { code: 1, signal: null })).toBe(true);
    expect(shouldRestart(spec, { code: null, signal: "SIGKILL" })).toBe(true);
    expect(shouldRestart(spec, { code: 0, signal: null })).toBe(false);
    expect(shouldRestart(spec, { code: 78, signal: null })).toBe(false);
    expect(shouldRestart({ ...spec, restart: "always" }, { code: 0, signal: null })).toBe(true);
    expect(shouldRestart({ ...spec, restart: "no" }, { code: 1, signal: null })).toBe(false);
    expect([1, 2, 3, 4, 5, 9].map((n) => restartDelayMs(spec, n))).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});

describe("the supervisor, with real processes", () => {
  it("starts each service once the one before is ready, as the unit says, restarts a failing one, stops in reverse", async () => {
    fresh();
    const said: string[] = [];
    const supervisor = supervise({ unitFiles: unitsOfTarget(unitSet("worker fail-times 2")), logDir: join(dir, "logs"), say: (l: string) => said.push(l) });
    await supervisor.start();
    const starts = Object.fromEntries(lines().filter((l) => l.startsWith("start ")).map((l) => [l.split(" ")[1], JSON.parse(l.split(" ").slice(2).join(" "))]));
    // db, then queue once db was ready, then worker and api once both were (those two have no readiness check:
    // each counts as started once its process runs, as Type=simple in systemd).
    expect(said.filter((l) => l.startsWith("starting "))).toEqual(["starting t-db.service", "starting t-queue.service", "starting t-worker.service", "starting t-api.service"]);
    expect(starts.db.ready).toEqual([]);
    expect(starts.queue.ready).toEqual(["db"]);
    expect(starts.worker.ready).toEqual(["db", "queue"]);
    expect(starts.api.ready).toEqual(["db", "queue"]);
    // The unit's Environment=, then its EnvironmentFile= over it (as systemd), its folder and umask.
    expect(starts.db).toMatchObject({ foo: "overridden-by-the-file", fromFile: "from the file", cwd: dir, umask: "27" });
    expect(starts.db.home).toBe(userInfo().homedir);
    // The worker exits with 1 twice (after the start check), and comes back each time: 50 ms, then 100 ms.
    await until(() => lines().filter((l) => l.startsWith("start worker")).length === 3);
    await delay(500);
    expect(supervisor.running().map((u: { name: string }) => u.name).sort()).toEqual(["t-api.service", "t-db.service", "t-queue.service", "t-worker.service"]);
    expect(said.filter((l) => l.includes("restarting in"))).toEqual([
      "t-worker.service exited (exit code 1); restarting in 0.05 s (failure 1 in a row)",
      "t-worker.service exited (exit code 1); restarting in 0.10 s (failure 2 in a row)",
    ]);
    expect(readFileSync(join(dir, "logs", "t-worker.service.log"), "utf8")).toBe("");
    const statuses = await supervisor.stop();
    expect(lines().filter((l) => l.startsWith("stop "))).toEqual(["stop api SIGTERM", "stop worker SIGTERM", "stop queue SIGTERM", "stop db SIGINT"]);
    expect(Object.values(statuses).every((s) => (s as { timedOut: boolean }).timedOut === false)).toBe(true);
  });

  it("leaves down a service whose exit status RestartPreventExitStatus= names; a failed readiness check fails the start", async () => {
    fresh();
    const said: string[] = [];
    const supervisor = supervise({ unitFiles: unitsOfTarget(unitSet("worker exit 78")), logDir: join(dir, "logs"), say: (l: string) => said.push(l) });
    await supervisor.start();
    await until(() => said.some((l) => l.startsWith("t-worker.service exited")));
    await delay(300);
    expect(said.find((l) => l.startsWith("t-worker.service exited"))).toMatch(/exit code 78\); not restarted \(Restart=on-failure, RestartPreventExitStatus=2 78\)/);
    expect(lines().filter((l) => l.startsWith("start worker"))).toHaveLength(1);
    await supervisor.stop();

    fresh();
    unitSet("worker");
    // The queue never becomes ready: its ExecStartPost fails, the start stops there and says where to look.
    unit("t-queue.service", { after: "t-db.service", service: "queue", extra: `ExecStartPost=${NODE} -e setTimeout(()=>process.exit(3),300)` });
    const failing = supervise({ unitFiles: unitsOfTarget(join(dir, "units", "t.target")), logDir: join(dir, "logs") });
    await expect(failing.start()).rejects.toThrow(/t-queue\.service: ExecStartPost .* exited with 3; see .*t-queue\.service\.log/);
    await failing.stop();
    expect(lines().filter((l) => l.startsWith("start ")).map((l) => l.split(" ")[1])).toEqual(["db", "queue"]);
    expect(lines().filter((l) => l.startsWith("stop "))).toEqual(["stop queue SIGTERM", "stop db SIGINT"]);
  });
});

describe("atomic-up (deploy/install/up.mjs)", () => {
  it("runs an installation's units from install.json, logs each to <data-dir>/logs, and stops them all on SIGTERM", async () => {
    fresh();
    unitSet("worker");
    // The runner finds atomic.target in the installation's systemd folder.
    writeFileSync(join(dir, "units", "atomic.target"), readFileSync(join(dir, "units", "t.target")));
    mkdirSync(join(dir, "prefix", "etc"), { recursive: true });
    writeFileSync(join(dir, "prefix", "etc", "install.json"), JSON.stringify({ systemdDir: join(dir, "units"), dataDir: join(dir, "data") }));
    const child = spawn(NODE, [resolve("deploy/install/up.mjs"), "--prefix", join(dir, "prefix"), "--ignore-systemd"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    await until(() => output.includes("all started"), 15_000);
    expect(output).toContain("starting t-db.service, t-queue.service, t-worker.service, t-api.service");
    expect(existsSync(join(dir, "data", "logs", "t-db.service.log"))).toBe(true);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGTERM: stopping t-api\.service, t-worker\.service, t-queue\.service, t-db\.service[^]*all stopped/);
    expect(lines().filter((l) => l.startsWith("stop "))).toEqual(["stop api SIGTERM", "stop worker SIGTERM", "stop queue SIGTERM", "stop db SIGINT"]);
  });

  it("says in one line what is missing", async () => {
    const run = spawn(NODE, [resolve("deploy/install/up.mjs"), "--prefix", join(dir, "nowhere")], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    run.stderr.on("data", (d) => { stderr += d; });
    expect(await new Promise((done) => run.once("exit", done))).toBe(1);
    expect(stderr).toBe(`atomic-up: ${join(dir, "nowhere", "etc", "install.json")} is missing: ${join(dir, "nowhere")} holds no installation made by the installer (--prefix)\n`);
  });
});
