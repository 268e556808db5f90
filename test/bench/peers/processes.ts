/**
 * The processes the peers bench starts (the mock upstream, Atomic, the peers). Their output is kept, so that one
 * that fails to start can say why in the bench's error; none outlives the bench: stop() ends each, and whatever is
 * still running when the bench exits (an error, Ctrl-C, a test runner's timeout) is killed on the way out.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const OUTPUT_KEPT = 16 * 1024;
const STOP_PATIENCE_MS = 10_000;

export interface Started {
  name: string;
  child: ChildProcess;
  running(): boolean;
  /** How it ended: the spawn error, the exit code or the signal. */
  how(): string;
  /** The last 16 KiB of what it printed, stdout and stderr together. */
  output(): string;
  /** Resolves with the first line on stdout that parses as a JSON object. */
  firstJsonLine<T>(timeoutMs: number): Promise<T>;
  /** SIGTERM, SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * The environment a started process gets: ours, without proxy settings (every address it needs is on loopback,
 * and a proxy would route the mock's traffic through itself) nor DATABASE_URL (the bench's own server, which
 * LiteLLM would take for a database of its own and refuse to start without prisma), plus `extra`.
 */
export function loopbackEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^((https?|all|no)_proxy|DATABASE_URL)$/i.test(name)));
  return { ...env, ...extra };
}

const live = new Set<ChildProcess>();
let exitHooked = false;

/** Kills every started process still running when this one exits, and turns SIGINT/SIGTERM into such an exit. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));
}

export function startProcess(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): Started {
  hookExit();
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let output = "";
  let stdoutLines = "";
  const lineWaiters: Array<(line: string) => void> = [];
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_KEPT);
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    keep(chunk);
    stdoutLines += chunk.toString("utf8");
    let newline: number;
    while ((newline = stdoutLines.indexOf("\n")) >= 0) {
      const line = stdoutLines.slice(0, newline);
      stdoutLines = stdoutLines.slice(newline + 1);
      for (const waiter of lineWaiters) waiter(line);
    }
  });
  child.stderr!.on("data", keep);
  let spawnError: Error | undefined;
  // A command that cannot be spawned emits "error" and may never emit "exit".
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (error) => {
      spawnError = error;
      resolve();
    });
  }).then(() => void live.delete(child));
  const how = () => spawnError?.message ?? String(child.exitCode ?? child.signalCode);
  const running = () => child.exitCode === null && child.signalCode === null && spawnError === undefined;

  return {
    name,
    child,
    running,
    how,
    output: () => output,
    firstJsonLine<T>(timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} printed no JSON line in ${timeoutMs / 1000} s:\n${output.slice(-2000)}`)), timeoutMs);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${how()}) before it was ready:\n${output.slice(-2000)}`));
        });
        lineWaiters.push((line) => {
          if (!line.trimStart().startsWith("{")) return;
          try {
            const parsed = JSON.parse(line) as T;
            clearTimeout(timer);
            resolve(parsed);
          } catch {
            // Not the line we wait for.
          }
        });
      });
    },
    async stop(): Promise<void> {
      if (!running()) return;
      child.kill("SIGTERM");
      // Unref'd: a pending patience timer kept the bench alive for its 10 s after everything had stopped.
      await Promise.race([exited, sleep(STOP_PATIENCE_MS, undefined, { ref: false })]);
      if (running()) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * Retries `probe` until it resolves true, while the process runs; fails with the process's output after
 * `timeoutMs` or when it exits.
 */
export async function waitUntilReady(started: Started, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!started.running()) {
      throw new Error(`${started.name} exited (${started.how()}) before it was ready:\n${started.output().slice(-2000)}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${started.name} was not ready after ${timeoutMs / 1000} s:\n${started.output().slice(-2000)}`);
}

/**
 * A port free on 127.0.0.1 now, for a program that takes its port on the command line and cannot report one it
 * chose itself. Another process could take it first; the program then fails to listen and says so.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
