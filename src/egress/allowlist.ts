import { isIP } from "node:net";

/**
 * Where the gateway process may connect: `host:port` entries (`*` for any port), hosts as IP literals or names
 * compared as written. Unix sockets (the embedded PostgreSQL) are always allowed: they never leave the machine.
 */
export class EgressAllowlist {
  private readonly entries: Array<{ host: string; port: number | "*" }>;

  constructor(entries: readonly string[]) {
    this.entries = entries.map(parseEntry);
  }

  /** Adds `host:port` (or `host:*`): a destination known only once something has started, such as a free port. */
  add(entry: string): void {
    this.entries.push(parseEntry(entry));
  }

  allows(host: string, port: number): boolean {
    const wanted = normaliseHost(host);
    return this.entries.some((entry) => entry.host === wanted && (entry.port === "*" || entry.port === port));
  }

  /** Host names (not IP literals) that may be resolved: resolving anything else would itself leak a query. */
  allowsName(name: string): boolean {
    const wanted = normaliseHost(name);
    return this.entries.some((entry) => entry.host === wanted);
  }

  toJSON(): string[] {
    return this.entries.map((entry) => `${entry.host}:${entry.port}`);
  }
}

/** `host:port`, `[v6]:port`, `host:*`. */
function parseEntry(text: string): { host: string; port: number | "*" } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5}|\*)$/.exec(text.trim());
  if (match === null) throw new RangeError(`egress allowlist entry ${JSON.stringify(text)} is not host:port (or [v6]:port, host:*)`);
  const port = match[3] === "*" ? "*" : Number(match[3]);
  if (port !== "*" && (port < 1 || port > 65535)) throw new RangeError(`egress allowlist entry ${JSON.stringify(text)} has no valid port`);
  return { host: normaliseHost(match[1] ?? match[2]!), port };
}

function normaliseHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  // IPv4-mapped IPv6 is the same destination as its IPv4 form.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  return isIP(bare) === 6 ? bare.toLowerCase() : bare.toLowerCase().replace(/\.$/, "");
}
