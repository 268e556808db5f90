import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ConfigError } from "../../src/config/load.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { until } from "../support/until.js";

/** HTTPS with a self-signed certificate made here, and CORS off by default, on for exactly the configured origins. */
const ORIGIN = "https://ward.example:8443";
let dir: string;
let cert: Buffer;
let models: TestModels;
let secure: TestGateway;
let plain: TestGateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "atomic-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "other-key.pem")], { stdio: "ignore" });
  cert = readFileSync(join(dir, "cert.pem"));
  models = writeTestModels([{ id: "m", capabilities: ["chat", "completion"] }]);
  secure = await startTestGateway({
    models,
    server: { tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") }, cors: { origins: [ORIGIN] } },
  });
  plain = await startTestGateway({ models, server: { requestTimeoutMs: 2_000 } });
});
afterAll(async () => {
  await secure?.close();
  await plain?.close();
});

function httpsGet(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, options, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({ status: response.statusCode!, body }));
    }).on("error", reject);
  });
}

/** What a plain-HTTP client gets: "status N" if anything answered as HTTP, else the error code. */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 5_000 }, (response) => {
      response.resume();
      resolve(`status ${response.statusCode}`);
    });
    request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    request.on("error", (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
  });
}

const startFails = (tls: { certFile: string; keyFile: string }) =>
  startGateway(ConfigSchema.parse({
    server: { host: "127.0.0.1", port: 0, tls },
    dataDir: dir,
    // Never reached: the certificate is checked first. A database that cannot exist keeps a regression from
    // starting an embedded one here.
    database: { url: `postgresql://nobody@/none?host=${join(dir, "no-such-socket-dir")}` },
    egress: { selfTest: { mode: "off" } },
    temporal: { enabled: false },
  }), pino({ level: "silent" }));

describe("TLS (server.tls)", () => {
  it("serves HTTPS to a client that trusts the certificate, and nothing to one that does not", async () => {
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsGet(`${secure.url}/healthz`, { ca: cert });
    expect(health.status).toBe(200);
    const listed = await httpsGet(`${secure.url}/v1/models`, { ca: cert, headers: { authorization: `Bearer ${secure.adminKey}` } });
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body).data.map((m: { id: string }) => m.id)).toContain("m");
    await expect(httpsGet(`${secure.url}/healthz`)).rejects.toMatchObject({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(secure.logs.find((line) => line.msg === "gateway listening")?.url).toBe(secure.url);
  });

  it("does not answer plain HTTP on the TLS port", async () => {
    const outcome = await httpGet(secure.url.replace("https:", "http:") + "/healthz");
    // The TLS layer drops the connection on the first non-handshake byte: no HTTP answer, not even an error page.
    expect(outcome).toBe("error ECONNRESET");
  });

  it("refuses to start on a missing file, a file that is not PEM, or a key that is not the certificate's", async () => {
    const missing = startFails({ certFile: join(dir, "absent.pem"), keyFile: join(dir, "key.pem") });
    await expect(missing).rejects.toThrow(ConfigError);
    await expect(missing).rejects.toThrow(`server.tls.certFile: cannot read ${join(dir, "absent.pem")}: ENOENT`);

    writeFileSync(join(dir, "garbage.pem"), "not a certificate\n");
    await expect(startFails({ certFile: join(dir, "garbage.pem"), keyFile: join(dir, "key.pem") })).rejects.toThrow(/^server\.tls: .* are not a PEM certificate and its private key/);

    const mismatch = startFails({ certFile: join(dir, "cert.pem"), keyFile: join(dir, "other-key.pem") });
    await expect(mismatch).rejects.toThrow(/key values mismatch/);
    // The message names files, never their content.
    await expect(mismatch).rejects.not.toThrow(/BEGIN/);
  });
});

describe("CORS (server.cors.origins)", () => {
  const preflight = (gw: TestGateway, origin: string) =>
    gw.gateway.app.request("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-atomic-purpose" },
    });
  const get = (gw: TestGateway, origin: string) =>
    gw.gateway.app.request("/v1/models", { headers: { origin, authorization: `Bearer ${gw.adminKey}` } });
  const corsHeaders = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));

  it("sends no CORS header at all when no origin is configured", async () => {
    const pre = await preflight(plain, ORIGIN);
    expect(pre.status).toBe(401);
    expect(corsHeaders(pre)).toEqual([]);
    const response = await get(plain, ORIGIN);
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toEqual([]);
  });

  it("allows exactly the configured origins: preflight answered before authentication, gateway headers exposed", async () => {
    const pre = await preflight(secure, ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET,HEAD,POST");
    expect(pre.headers.get("access-control-allow-headers")?.split(",")).toEqual(expect.arrayContaining(["authorization", "content-type", "x-atomic-purpose"]));
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    expect(pre.headers.get("vary")).toContain("Origin");

    const response = await get(secure, ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-expose-headers")?.split(",")).toEqual(expect.arrayContaining(["x-request-id", "x-atomic-execution-id"]));

    for (const other of ["https://evil.example", "https://ward.example", "http://ward.example:8443", "null"]) {
      expect((await preflight(secure, other)).headers.get("access-control-allow-origin"), other).toBeNull();
      expect((await get(secure, other)).headers.get("access-control-allow-origin"), other).toBeNull();
    }
  });
});

describe("requests Node's HTTP parser refuses", () => {
  /** Writes `request` on a fresh connection (TLS for an https URL) and returns everything read until the server closes it. */
  function raw(url: string, request: string): Promise<string> {
    const { hostname, port, protocol } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = protocol === "https:"
        ? tls.connect({ host: hostname, port: Number(port), ca: cert, servername: "localhost" }, () => socket.write(request))
        : net.connect({ host: hostname, port: Number(port) }, () => socket.write(request));
      let received = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk)).on("end", () => resolve(received)).on("error", reject);
      socket.setTimeout(5_000, () => reject(new Error(`no close after ${JSON.stringify(received)}`)));
    });
  }

  function parsed(response: string): { statusLine: string; headers: Record<string, string>; body: unknown } {
    const [head, body] = response.split("\r\n\r\n", 2) as [string, string];
    const [statusLine, ...lines] = head.split("\r\n");
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    return { statusLine: statusLine!, headers, body: JSON.parse(body) };
  }

  it("answers a malformed header line with the JSON error shape and closes the connection", async () => {
    for (const gw of [plain, secure]) {
      const response = parsed(await raw(gw.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nthis is not a header\r\n\r\n"));
      expect(response.statusLine).toBe("HTTP/1.1 400 Bad Request");
      expect(response.headers).toMatchObject({ "content-type": "application/json", connection: "close" });
      expect(response.body).toEqual({ error: { type: "invalid_request_error", code: "malformed_request", message: expect.any(String), param: null } });
    }
  });

  it("answers headers over Node's limit with 431 in the same shape", async () => {
    const response = parsed(await raw(plain.url, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-padding: ${"a".repeat(20_000)}\r\n\r\n`));
    expect(response.statusLine).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(response.body).toMatchObject({ error: { code: "request_headers_too_large" } });
  });

  it("answers a target or Host header that is no URL, and an unmet Expect, in the same shape", async () => {
    for (const gw of [plain, secure]) {
      for (const request of [
        "GET /v1\\models HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: user@localhost\r\n\r\n",
        "GET http://[::1/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
      ]) {
        const response = parsed(await raw(gw.url, request));
        expect(response.statusLine, request).toBe("HTTP/1.1 400 Bad Request");
        expect(response.headers).toMatchObject({ "content-type": "application/json" });
        expect(response.body).toMatchObject({ error: { code: "malformed_request" } });
      }
    }
    const expectation = parsed(await raw(plain.url, "POST /v1/embeddings HTTP/1.1\r\nHost: localhost\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}"));
    expect(expectation.statusLine).toBe("HTTP/1.1 417 Expectation Failed");
    expect(expectation.body).toMatchObject({ error: { code: "expectation_failed" } });
  });

  it("answers a body that ends before its Content-Length as the client's error, logging no failure of its own", async () => {
    const before = plain.logs.length;
    const socket = net.connect({ host: "127.0.0.1", port: Number(new URL(plain.url).port) });
    const received = new Promise<string>((resolve) => {
      let text = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("close", () => resolve(text)).on("error", () => resolve(text));
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.end(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${plain.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"messages":`);
    const response = await received;
    if (response !== "") expect(response).toMatch(/^HTTP\/1\.1 4\d\d /);
    await until(() => plain.logs.slice(before).some((line) => line["msg"] === "request"));
    expect(plain.logs.slice(before).filter((line) => line["msg"] === "unhandled error")).toEqual([]);
  });

  it("closes a connection whose request does not arrive in time with 408 in the same shape", async () => {
    // The body never comes: Node's own default kept such a connection open for 300 s.
    const response = parsed(await raw(plain.url, `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${plain.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"messages":`));
    expect(response.statusLine).toBe("HTTP/1.1 408 Request Timeout");
    expect(response.body).toMatchObject({ error: { code: "request_timeout" } });
  });

  it("still serves well-formed requests on the next connection", async () => {
    expect(await httpGet(`${plain.url}/healthz`)).toBe("status 200");
  });
});
