import dgram from "node:dgram";
import dns from "node:dns";
import net from "node:net";
import type { EgressAllowlist } from "./allowlist.js";

/** A connection the allowlist does not cover; the socket fails with it and nothing is sent. */
export class EgressDeniedError extends Error {
  override readonly name = "EgressDeniedError";
  readonly code = "EGRESS_DENIED";
  constructor(readonly destination: string, readonly via: "tcp" | "udp" | "dns") {
    super(`outbound ${via} to ${destination} refused: not in the egress allowlist`);
  }
}

export interface EgressGuardOptions {
  allowlist: EgressAllowlist;
  /** Told of every refused attempt (log it, audit it); must not throw. */
  onDenied(error: EgressDeniedError): void;
}

let installed: EgressGuardOptions | null = null;

/**
 * Limits this process's outbound traffic to the allowlist: TCP connects (net, http, pg, fetch all go through
 * net.Socket#connect), UDP sends and DNS lookups (getaddrinfo) of names not on the list are refused before
 * anything leaves. dns.resolve* (c-ares, its own sockets) is not intercepted: nothing in Atomic calls it.
 * Process-wide by nature, so only `atomic serve`, `atomic worker` and each model host install it, once; the
 * firewall of the site stays the real boundary, this makes an attempt fail loudly and leave a record.
 */
export function installEgressGuard(options: EgressGuardOptions): void {
  if (installed !== null) throw new Error("the egress guard is already installed in this process");
  installed = options;

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const target = tcpTarget(args);
    if (target !== null && !options.allowlist.allows(target.host, target.port)) {
      const error = new EgressDeniedError(`${target.host}:${target.port}`, "tcp");
      options.onDenied(error);
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;

  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function guardedSend(this: dgram.Socket, ...args: unknown[]) {
    const target = udpTarget(this, args);
    if (target !== null && !options.allowlist.allows(target.host, target.port)) {
      const error = new EgressDeniedError(`${target.host}:${target.port}`, "udp");
      options.onDenied(error);
      const callback = args.find((arg) => typeof arg === "function") as ((error: Error) => void) | undefined;
      if (callback) process.nextTick(() => callback(error));
      else process.nextTick(() => this.emit("error", error));
      return;
    }
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;

  const lookup = dns.lookup;
  const guardedLookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    if (net.isIP(hostname) === 0 && hostname !== "localhost" && !options.allowlist.allowsName(hostname)) {
      const error = new EgressDeniedError(hostname, "dns");
      options.onDenied(error);
      const callback = rest.find((arg) => typeof arg === "function") as ((error: Error) => void) | undefined;
      process.nextTick(() => callback?.(error));
      return;
    }
    (lookup as (...a: unknown[]) => void).call(dns, hostname, ...rest);
  };
  dns.lookup = guardedLookup as typeof dns.lookup;
  const lookupPromise = dns.promises.lookup;
  dns.promises.lookup = async function guardedLookupPromise(hostname: string, ...rest: unknown[]) {
    if (net.isIP(hostname) === 0 && hostname !== "localhost" && !options.allowlist.allowsName(hostname)) {
      const error = new EgressDeniedError(hostname, "dns");
      options.onDenied(error);
      throw error;
    }
    return (lookupPromise as (...a: unknown[]) => Promise<unknown>).call(dns.promises, hostname, ...rest);
  } as typeof dns.promises.lookup;
}

/** Host and port of a TCP connect call; null for unix sockets (a path) and pipes. */
function tcpTarget(args: unknown[]): { host: string; port: number } | null {
  // net.Socket#connect is called with a normalised [options, callback] pair by net.connect and friends, but
  // also directly with (port, host?, cb?) or (path, cb?).
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === "object" && first !== null) {
    const options = first as { path?: string | null; port?: number | string; host?: string };
    // Node's own rule: a truthy path is a unix socket or pipe (http passes `path: null` for TCP).
    if (options.path) return null;
    if (options.port === undefined) return null;
    return { host: options.host ?? "localhost", port: Number(options.port) };
  }
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const host = typeof args[1] === "string" ? args[1] : "localhost";
    return { host, port: Number(first) };
  }
  return null;
}

function udpTarget(socket: dgram.Socket, args: unknown[]): { host: string; port: number } | null {
  // send(msg, [offset, length,] port, address, cb) — or a connected socket with no port/address.
  const numbers = args.filter((arg) => typeof arg === "number") as number[];
  const strings = args.slice(1).filter((arg) => typeof arg === "string") as string[];
  if (numbers.length === 0) {
    try {
      const remote = socket.remoteAddress();
      return { host: remote.address, port: remote.port };
    } catch {
      return null;
    }
  }
  const port = numbers.length >= 3 ? numbers[2]! : numbers[0]!;
  return { host: strings[0] ?? "localhost", port };
}
