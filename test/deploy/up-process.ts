import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";

export const ROOT = join(import.meta.dirname, "..", "..");
export const UP_SCRIPT = join(ROOT, "deploy", "temporal", "up.mjs");
export const BUILD_SCRIPT = join(ROOT, "deploy", "temporal", "build-server.mjs");

/** The JSON lines deploy/temporal/up.mjs prints on stdout. */
export type UpEvent =
  | { event: "ready"; address: string; namespace: string; pid: number; incarnation: number; ports: Record<string, number> }
  | { event: "exited"; pid: number; code: number | null; signal: string | null; incarnation: number }
  | { event: "restart-failed"; error: string; incarnation: number }
  | { event: "stopped" };

/** deploy/temporal/up.mjs as an operator runs it: a child process, its events read from stdout. */
export class UpProcess {
  readonly events: UpEvent[] = [];
  private stderr: string[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as UpEvent);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
    });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      this.stderr.push(line);
      if (process.env["ATOMIC_TEST_LOG"]) process.stderr.write(`${line}\n`);
    });
    this.exit = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): UpProcess {
    return new UpProcess(spawn(process.execPath, [UP_SCRIPT, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Its progress and error lines, for assertion messages. */
  output(): string {
    return this.stderr.slice(-40).join("\n");
  }

  /** The first event at index `from` or later that matches; fails with the script's output if it exits first. */
  async waitFor<K extends UpEvent["event"]>(kind: K, from = 0, timeoutMs = 180_000): Promise<Extract<UpEvent, { event: K }> & { index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e, i) => i >= from && e.event === kind);
      if (index >= 0) return { ...(this.events[index] as Extract<UpEvent, { event: K }>), index };
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`up.mjs exited (${this.child.signalCode ?? this.child.exitCode}) before "${kind}":\n${this.output()}`);
      }
      if (Date.now() > deadline) throw new Error(`no "${kind}" from up.mjs within ${timeoutMs} ms:\n${this.output()}`);
      await delay(50);
    }
  }

  /** SIGTERM, as systemd or Ctrl-C would stop it; resolves with how it exited. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exit;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolvePort(true)));
  });
}

/** A base N such that N..N+count-1 are all free on loopback now (the server's nine ports are numbered from it). */
export async function freePortBlock(count = 9): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below 32768: Temporal stores membership ports as a smallint, and Linux hands out ephemeral ports above it.
    const base = 20_000 + Math.floor(Math.random() * (32_760 - count - 20_000));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error(`found no ${count} consecutive free loopback ports`);
}

/** True while something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return portFree(port).then((free) => !free);
}
