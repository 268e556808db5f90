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
});
