import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config/schema.js";
import { devServerUiArgs, freeLoopbackPort, startDevServer, type TemporalDevServer } from "../../src/orchestration/dev-server.js";
import { locateTemporalBinary } from "../../src/orchestration/temporal-binary.js";
import { httpGet as get, listeningSockets as listening } from "../support/listening.js";
import { testLogger } from "../support/temporal-env.js";

// One dev server of its own, with the web UI on (temporal.devServerUiPort); dev-server.test.ts checks that the
// default one serves no UI.
let server: TemporalDevServer;
let uiPort: number;

beforeAll(async () => {
  uiPort = await freeLoopbackPort();
  server = await startDevServer({
    binary: locateTemporalBinary(),
    dataDir: mkdtempSync(join(tmpdir(), "atomic-temporal-ui-")),
    uiPort,
    logger: testLogger(),
  });
});

afterAll(async () => {
  await server?.stop();
});

describe("temporal.devServerUiPort", () => {
  it("is 0 (headless) by default: --headless, no UI port", () => {
    expect(ConfigSchema.parse({}).temporal.devServerUiPort).toBe(0);
    expect(devServerUiArgs(0)).toEqual(["--headless", "--ui-disable-news-fetch"]);
    expect(devServerUiArgs(undefined)).toEqual(["--headless", "--ui-disable-news-fetch"]);
    expect(devServerUiArgs(8233)).toEqual(["--ui-ip", "127.0.0.1", "--ui-port", "8233", "--ui-disable-news-fetch"]);
  });

  it("serves the web UI's HTML on 127.0.0.1:<uiPort>, with no script or style from another origin", async () => {
    expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}/`);
    const page = await get("127.0.0.1", uiPort);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<html/i);
    const refs = [...page.body.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    const external = refs.filter((ref) => /^(?:[a-z][a-z0-9+.-]*:)?\/\//i.test(ref) && !/^(?:https?:)?\/\/127\.0\.0\.1(?::\d+)?\//i.test(ref));
    expect(external).toEqual([]);
    // Nor any absolute http(s) URL anywhere in the page (inline scripts included), other than loopback.
    const urls = [...page.body.matchAll(/https?:\/\/[^\s"'<>)]+/gi)].map((m) => m[0]).filter((url) => !/^https?:\/\/(?:127\.0\.0\.1|localhost)[:/]/i.test(url));
    expect(urls).toEqual([]);
    // A script the page loads comes from the UI itself.
    const script = refs.find((ref) => ref.endsWith(".js"));
    expect(script).toBeDefined();
    expect((await get("127.0.0.1", uiPort, script!)).status).toBe(200);
  });

  it.runIf(process.platform === "linux")("binds the UI to loopback only", async () => {
    const sockets = listening(server.pid()!);
    // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
    expect(sockets.filter((s) => s.port === uiPort)).toEqual([{ address: "0100007F", port: uiPort }]);
    expect(new Set(sockets.map((s) => s.address))).toEqual(new Set(["0100007F"]));
  });
});
