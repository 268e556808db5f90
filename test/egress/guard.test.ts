import { execFile } from "node:child_process";
import dgram from "node:dgram";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compiledScript } from "../support/scripts.js";

const FIXTURE = compiledScript("test/egress/fixtures/guarded-process.ts");

interface Listener {
  port: number;
  hits: number;
  close(): Promise<void>;
}

/** An HTTP server on loopback that counts the connections it ever accepted. */
async function httpListener(): Promise<Listener> {
  const server = http.createServer((_request, response) => response.end("ok"));
  const listener = { port: 0, hits: 0, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  server.on("connection", () => void listener.hits++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  listener.port = (server.address() as AddressInfo).port;
  return listener;
}

async function udpListener(): Promise<Listener> {
  const socket = dgram.createSocket("udp4");
  const listener = { port: 0, hits: 0, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  socket.on("message", () => void listener.hits++);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  listener.port = socket.address().port;
  return listener;
}

function guarded(allow: string[], attempts: Array<{ kind: string; target: string }>): Promise<{ outcomes: Array<{ outcome: string }>; denied: string[]; resolved: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FIXTURE, JSON.stringify(allow), JSON.stringify(attempts)], (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!));
    });
  });
}

let allowed: Listener;
let forbidden: Listener;
let forbiddenUdp: Listener;

beforeAll(async () => {
  allowed = await httpListener();
  forbidden = await httpListener();
  forbiddenUdp = await udpListener();
});
afterAll(async () => {
  await Promise.all([allowed?.close(), forbidden?.close(), forbiddenUdp?.close()]);
});

describe("the egress guard (in a process of its own)", () => {
  it("lets the allowlisted destination through and refuses every other one before a byte leaves", async () => {
    const result = await guarded([`127.0.0.1:${allowed.port}`], [
      { kind: "net", target: `127.0.0.1:${allowed.port}` },
      { kind: "fetch", target: `127.0.0.1:${allowed.port}` },
      { kind: "net", target: `127.0.0.1:${forbidden.port}` },
      { kind: "http", target: `127.0.0.1:${forbidden.port}` },
      { kind: "fetch", target: `127.0.0.1:${forbidden.port}` },
      { kind: "udp", target: `127.0.0.1:${forbiddenUdp.port}` },
    ]);

    expect(result.outcomes.map((o) => o.outcome)).toEqual([
      "connected",
      "status 200",
      "error EGRESS_DENIED",
      "error EGRESS_DENIED",
      "error EGRESS_DENIED",
      "error EGRESS_DENIED",
    ]);
    expect(forbidden.hits).toBe(0);
    expect(forbiddenUdp.hits).toBe(0);
    expect(allowed.hits).toBeGreaterThanOrEqual(2);
    expect(result.denied).toEqual(expect.arrayContaining([`tcp 127.0.0.1:${forbidden.port}`, `udp 127.0.0.1:${forbiddenUdp.port}`]));
  });

  it("resolves only names on the list: others never reach the resolver", async () => {
    const result = await guarded(["db.internal:5432"], [
      { kind: "dns", target: "db.internal" },
      { kind: "dns", target: "exfiltrate.example" },
    ]);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(["resolved 127.0.0.1", "error EGRESS_DENIED"]);
    expect(result.resolved).toEqual(["db.internal"]);
    expect(result.denied).toEqual(["dns exfiltrate.example"]);
  });
});
