import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyLimit } from "./index.js";

const LIMIT = 1024;
let handled = 0;
const app = new Hono();
app.use(bodyLimit({ maxSize: LIMIT, onError: (c) => c.json({ refused: true }, 413) }));
app.all("/", async (c) => {
  handled++;
  return c.json({ bytes: (await c.req.text()).length });
});

let server: ServerType;
let port: number;
beforeAll(async () => {
  await new Promise<void>((ready) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      port = info.port;
      ready();
    });
  });
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** One HTTP/1.1 request whose body is sent with Content-Length, or chunked (each string a chunk). */
function send(method: string, body: { length: string } | { chunks: string[] } | null): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body !== null && "length" in body ? { "content-length": String(Buffer.byteLength(body.length)) } : {};
    const req = httpRequest({ host: "127.0.0.1", port, method, path: "/", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    if (body === null) req.end();
    else if ("length" in body) req.end(body.length);
    else {
      for (const chunk of body.chunks) req.write(chunk);
      req.end();
    }
  });
}

describe("the request body limit", () => {
  it("refuses a body whose Content-Length is over the limit without running the route", async () => {
    const before = handled;
    expect(await send("POST", { length: "x".repeat(LIMIT + 1) })).toEqual({ status: 413, text: '{"refused":true}' });
    expect(handled).toBe(before);
    expect(await send("POST", { length: "x".repeat(LIMIT) })).toEqual({ status: 200, text: `{"bytes":${LIMIT}}` });
  });

  it("counts a chunked body as it streams in: whole when under the limit, refused when over", async () => {
    expect(await send("POST", { chunks: ["x".repeat(600), "y".repeat(400)] })).toEqual({ status: 200, text: '{"bytes":1000}' });
    const before = handled;
    expect(await send("POST", { chunks: ["x".repeat(600), "y".repeat(600)] })).toEqual({ status: 413, text: '{"refused":true}' });
    expect(handled).toBe(before);
  });

  it("lets a request without a body through", async () => {
    expect(await send("GET", null)).toEqual({ status: 200, text: '{"bytes":0}' });
  });

  it("holds in-process requests, which carry no Content-Length, to the limit too", async () => {
    const over = await app.request("/", { method: "POST", body: "x".repeat(LIMIT + 1) });
    expect(over.status).toBe(413);
    const under = await app.request("/", { method: "POST", body: "x".repeat(LIMIT) });
    expect(await under.json()).toEqual({ bytes: LIMIT });
  });
});
