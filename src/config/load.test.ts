import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "atomic-config-"));
function file(content: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("loadConfig", () => {
  it("applies defaults: loopback, port 8080, embedded database", () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(config.database.url).toBeUndefined();
    expect(config.inference.threads).toBeGreaterThanOrEqual(1);
  });

  it("layers file, then environment, then overrides", () => {
    const path = file({ server: { port: 9000 }, inference: { maxQueue: 5 } });
    const config = loadConfig({ file: path, env: { ATOMIC_INFERENCE_MAX_QUEUE: "7", DATABASE_URL: "postgresql://x@/db" }, overrides: { server: { host: "::1" } } });
    expect(config.server).toMatchObject({ port: 9000, host: "::1" });
    expect(config.inference.maxQueue).toBe(7);
    expect(config.database.url).toBe("postgresql://x@/db");
  });

  it("names the bad key and where it came from", () => {
    expect(() => loadConfig({ env: { ATOMIC_SERVER_PORT: "70000" } })).toThrow(/server\.port: .*\[from environment variable ATOMIC_SERVER_PORT\]/);
    const path = file({ inference: { gpu: "tpu" } });
    expect(() => loadConfig({ file: path, env: {} })).toThrow(new RegExp(`inference\\.gpu: .*\\[from config file ${path}\\]`));
  });

  it("refuses unknown keys by name, and files that are not JSON objects", () => {
    expect(() => loadConfig({ file: file({ server: { prot: 1 } }), env: {} })).toThrow(/server \(server\.prot\)/);
    expect(() => loadConfig({ file: file("[1]"), env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file: file("{oops"), env: {} })).toThrow(/config file/);
  });

  it("takes CORS origins as a list or a comma-separated variable, exact origins only; none by default", () => {
    expect(loadConfig({ env: {} }).server.cors.origins).toEqual([]);
    expect(loadConfig({ env: { ATOMIC_SERVER_CORS_ORIGINS: "https://ward.example, http://10.0.0.5:3000" } }).server.cors.origins)
      .toEqual(["https://ward.example", "http://10.0.0.5:3000"]);
    for (const bad of ["*", "https://ward.example/", "https://ward.example/app", "ward.example", "file:///x"]) {
      expect(() => loadConfig({ file: file({ server: { cors: { origins: [bad] } } }), env: {} }), bad).toThrow(/server\.cors\.origins\.0: an origin/);
    }
    expect(() => loadConfig({ env: { ATOMIC_SERVER_CORS_ORIGINS: "https://ok.example,*" } })).toThrow(/server\.cors\.origins\.1: .*\[from environment variable ATOMIC_SERVER_CORS_ORIGINS\]/);
  });

  it("takes a TLS certificate and key together, from the file or the environment", () => {
    expect(loadConfig({ env: { ATOMIC_SERVER_TLS_CERT_FILE: "c.pem", ATOMIC_SERVER_TLS_KEY_FILE: "k.pem" } }).server.tls).toEqual({ certFile: "c.pem", keyFile: "k.pem" });
    expect(loadConfig({ env: {} }).server.tls).toBeUndefined();
    expect(() => loadConfig({ file: file({ server: { tls: { certFile: "c.pem" } } }), env: {} })).toThrow(/server\.tls\.keyFile/);
  });
});
