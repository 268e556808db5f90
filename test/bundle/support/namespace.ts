import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs a command the way the air-gapped host would see it: a network namespace with loopback only (no route
 * anywhere), a private copy of /etc (so the installer's useradd touches the copy, not this machine), and Debian's
 * PostgreSQL hidden (an empty tmpfs over /usr/lib/postgresql), so that only the bundle's own can be used.
 * Optionally under strace, which records every connect/sendto/sendmsg with its address.
 */
export interface NamespaceRun {
  code: number | null;
  output: string;
  ms: number;
}

export interface NamespaceOptions {
  /** A folder holding a copy of /etc, made by prepareEtc(). */
  etc: string;
  /** Write strace's record here (follows every child). */
  straceFile?: string;
  /** Also append the output here as it comes, for a human following a long run. */
  logFile?: string;
  timeoutMs?: number;
}

export const TRACED_SYSCALLS = "connect,sendto,sendmsg,sendmmsg";

export function prepareEtc(work: string): string {
  const etc = join(work, "etc");
  if (!existsSync(etc)) {
    mkdirSync(work, { recursive: true });
    const copy = spawnSync("cp", ["-a", "/etc", etc], { stdio: "ignore" });
    if (copy.status !== 0) throw new Error(`cp -a /etc ${etc} failed`);
  }
  return etc;
}

function quote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

export function runInNamespace(command: string[], options: NamespaceOptions): Promise<NamespaceRun> {
  const traced = options.straceFile
    ? ["strace", "-f", "-qq", "--seccomp-bpf", "-s", "16", "-e", `trace=${TRACED_SYSCALLS}`, "-o", options.straceFile, ...command]
    : command;
  const script = [
    "set -e",
    "ip link set lo up",
    `mount --bind ${quote(options.etc)} /etc`,
    "if [ -d /usr/lib/postgresql ]; then mount -t tmpfs -o size=1m tmpfs /usr/lib/postgresql; fi",
    `exec ${traced.map(quote).join(" ")}`,
  ].join("\n");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["--net", "--mount", "--propagation", "private", "--", "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : null;
    const keep = (chunk: Buffer) => {
      chunks.push(chunk);
      log?.write(chunk);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      log?.end();
      resolve({ code, output: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started });
    });
  });
}

export interface TraceSummary {
  /** Syscalls with an address, by family (AF_UNIX, AF_INET loopback, ...). */
  byFamily: Record<string, number>;
  /** Every one whose address was neither a unix socket, netlink, nor loopback. */
  outside: string[];
  lines: number;
}

const LOOPBACK_V4 = /^127\.\d+\.\d+\.\d+$/;

/**
 * Reads strace's record: each traced call that names an address is classified. Allowed: AF_UNIX, AF_NETLINK (the
 * kernel's own routing and interface queries), AF_UNSPEC (a connect that dissolves an association), and
 * AF_INET/AF_INET6 to loopback. Anything else is an attempt to reach another machine, whatever its outcome.
 */
export function summariseTrace(text: string): TraceSummary {
  const byFamily: Record<string, number> = {};
  const outside: string[] = [];
  let lines = 0;
  for (const line of text.split("\n")) {
    if (!/\b(connect|sendto|sendmsg|sendmmsg)\(/.test(line)) continue;
    lines++;
    const family = /sa_family=(AF_[A-Z0-9]+)/.exec(line)?.[1];
    if (family === undefined) continue; // a send on a connected socket: its address was traced at connect
    let label = family;
    let allowed = family === "AF_UNIX" || family === "AF_NETLINK" || family === "AF_UNSPEC";
    if (family === "AF_INET") {
      const address = /inet_addr\("([^"]+)"\)/.exec(line)?.[1] ?? "?";
      allowed = LOOPBACK_V4.test(address);
      label = `AF_INET ${allowed ? "loopback" : address}`;
    } else if (family === "AF_INET6") {
      const address = /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1] ?? "?";
      allowed = address === "::1" || /^::ffff:127\./.test(address);
      label = `AF_INET6 ${allowed ? "loopback" : address}`;
    }
    byFamily[label] = (byFamily[label] ?? 0) + 1;
    if (!allowed) outside.push(line);
  }
  return { byFamily, outside, lines };
}
