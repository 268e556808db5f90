import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { request } from "node:http";

/** A TCP socket as Linux's /proc/net/tcp writes it: state (0A: listening), addresses in hex (0100007F: 127.0.0.1). */
export interface TcpSocket {
  state: string;
  address: string;
  port: number;
  remote: string;
}

export const LISTEN = "0A";

/** Every TCP socket `pid` holds (Linux /proc). */
export function socketsOf(pid: number): TcpSocket[] {
  const inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
    } catch {
      return undefined;
    }
  }).filter((inode): inode is string => inode !== undefined));
  const found: TcpSocket[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (!inodes.has(cols[9] ?? "")) continue;
      const [address, port] = cols[1]!.split(":");
      found.push({ state: cols[3]!, address: address!, port: Number.parseInt(port!, 16), remote: cols[2]!.split(":")[0]! });
    }
  }
  return found;
}

/** The TCP sockets `pid` listens on: local address and port. */
export function listeningSockets(pid: number): { address: string; port: number }[] {
  return socketsOf(pid).filter((socket) => socket.state === LISTEN).map(({ address, port }) => ({ address, port }));
}

/** One plain HTTP GET; rejects when nothing answers (or on a reply that is not HTTP) within timeoutMs. */
export function httpGet(host: string, port: number, path = "/", timeoutMs = 5_000): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ host, port, path, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolveGet({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}
