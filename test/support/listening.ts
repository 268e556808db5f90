import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { request } from "node:http";

/** The TCP sockets `pid` listens on (Linux /proc): the local address in /proc/net/tcp's hex (0100007F: 127.0.0.1) and the port. */
export function listeningSockets(pid: number): { address: string; port: number }[] {
  const inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
    } catch {
      return undefined;
    }
  }).filter((inode): inode is string => inode !== undefined));
  const found: { address: string; port: number }[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== "0A" || !inodes.has(cols[9] ?? "")) continue;
      const [address, port] = cols[1]!.split(":");
      found.push({ address: address!, port: Number.parseInt(port!, 16) });
    }
  }
  return found;
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
