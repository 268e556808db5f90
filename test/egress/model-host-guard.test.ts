import { fork } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childProcessEntry } from "../../src/util/sibling-entry.js";
import { compiledScript } from "../support/scripts.js";

/** The model host's entry and node options as the gateway's model-host.ts finds them: from the run's build. */
const HOST = childProcessEntry(new URL("../../src/inference/llama/model-host.ts", import.meta.url).href, "child");
const PROBE = compiledScript("test/egress/fixtures/model-host-probe.ts");

let server: http.Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((_request, response) => response.end("ok"));
  server.on("connection", () => void hits++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe("a model host process installs the egress guard", () => {
  it("refuses every outbound connection, even to loopback, and says so on stderr (which the gateway logs)", async () => {
    // The model host as the gateway starts it (fork, IPC channel), with the probe preloaded into it.
    const child = fork(HOST.path, [], {
      execArgv: [...HOST.execArgv, "--import", PROBE],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, ATOMIC_TEST_PROBE: `127.0.0.1:${port}` },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    await new Promise<void>((resolve) => child.once("exit", () => resolve()));

    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ guarded: true, outcome: "error EGRESS_DENIED" });
    expect(hits).toBe(0);
    expect(stderr).toContain(`egress guard: outbound tcp to 127.0.0.1:${port} refused`);
  });
});
