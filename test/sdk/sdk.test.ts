import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VECTORS_FILE, vectorsText } from "../../sdk/testdata/make-vectors.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * The Python and Go SDKs (sdk/python, sdk/go): each one's own tests, unit and integration, run by its own tool
 * (pytest in the venv scripts/install-sdk-python.mjs makes; `go test`) against one real gateway with orchestration,
 * each as a tenant of its own. Both must pass, none skipped.
 */
const repoRoot = resolve(import.meta.dirname, "..", "..");

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 240_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

/** A loopback port free now, for a webhook receiver the SDK's test starts (the gateway must allow it up front). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

/** Go from ATOMIC_GO, PATH or where its official archive installs it; undefined when there is none. */
function goBinary(): string | undefined {
  return [process.env["ATOMIC_GO"], "go", "/usr/local/go/bin/go"].find((candidate) => {
    if (candidate === undefined) return false;
    try {
      execFileSync(candidate, ["version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
}

let gw: TestGateway;
let python: Run;
let go: Run;

beforeAll(async () => {
  const [pythonPort, goPort] = [await freePort(), await freePort()];
  const { address, namespace } = sharedTemporal("atomic-test-sdk");
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }]),
    temporal: { address, namespace, hostId: "sdk-test" },
    webhooks: { allow: [`http://127.0.0.1:${pythonPort}`, `http://127.0.0.1:${goPort}`], maxAttempts: 2 },
  });
  const common = {
    ATOMIC_SDK_BASE_URL: gw.url,
    ATOMIC_SDK_PUBLIC_KEY: join(gw.dataDir, "keys", "audit-signing.pub.jwk"),
    // A proxy set for the machine must not carry the SDKs' requests to the loopback gateway.
    NO_PROXY: "127.0.0.1",
    no_proxy: "127.0.0.1",
  };
  const venvPython = execFileSync(process.execPath, [join(repoRoot, "scripts", "install-sdk-python.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const goTool = goBinary();
  const goCache = join(repoRoot, ".tools", "go");
  const [pythonKey, goKey] = [await gw.issueKey("sdk-python", ["tasks", "audit:read"]), await gw.issueKey("sdk-go", ["tasks", "audit:read"])];
  // An application's key, of the same tenant: it proves its own executions without the auditor's scope.
  const [pythonAppKey, goAppKey] = [await gw.issueKey("sdk-python", ["tasks"]), await gw.issueKey("sdk-go", ["tasks"])];
  const runPython = run(venvPython, ["-m", "pytest", "-q", "-rs"], {
    cwd: join(repoRoot, "sdk", "python"),
    env: { ...common, ATOMIC_SDK_API_KEY: pythonKey, ATOMIC_SDK_APP_KEY: pythonAppKey, ATOMIC_SDK_WEBHOOK_PORT: String(pythonPort), PYTHONDONTWRITEBYTECODE: "1" },
  });
  const runGo = goTool === undefined
    ? Promise.resolve({ code: 127, output: "no Go toolchain (go on PATH, /usr/local/go/bin/go, or ATOMIC_GO): the Go SDK's tests need one" })
    : run(goTool, ["test", "-count=1", "-v", "./..."], {
        cwd: join(repoRoot, "sdk", "go"),
        env: {
          ...common,
          ATOMIC_SDK_API_KEY: goKey,
          ATOMIC_SDK_APP_KEY: goAppKey,
          ATOMIC_SDK_WEBHOOK_PORT: String(goPort),
          // No network, no toolchain download, the module as committed; the build cache kept between runs.
          GOPROXY: "off",
          GOFLAGS: "-mod=readonly",
          GOTOOLCHAIN: "local",
          GOCACHE: join(goCache, "cache"),
          GOMODCACHE: join(goCache, "mod"),
        },
      });
  // Side by side: Go compiles while Python's tests wait on the gateway.
  [python, go] = await Promise.all([runPython, runGo]);
}, 300_000);
afterAll(async () => gw?.close());

describe("the SDKs' shared test vectors", () => {
  it("are what sdk/testdata/make-vectors.ts makes from Atomic's own audit code now", async () => {
    expect(existsSync(VECTORS_FILE)).toBe(true);
    expect(readFileSync(VECTORS_FILE, "utf8")).toBe(await vectorsText());
  });
});

describe("the Python SDK (sdk/python)", () => {
  it("passes its unit and integration tests against the gateway, none skipped", () => {
    expect(python.code, python.output).toBe(0);
    const summary = /^(\d+) passed[^\n]*$/m.exec(python.output);
    expect(summary, python.output).not.toBeNull();
    expect(summary![0]).not.toMatch(/skipped|failed|error/);
    expect(Number(summary![1])).toBeGreaterThan(80);
  });
});

describe("the Go SDK (sdk/go)", () => {
  it("passes its unit and integration tests against the gateway, none skipped", () => {
    expect(go.code, go.output).toBe(0);
    expect(go.output).not.toMatch(/--- SKIP/);
    expect(go.output).toMatch(/--- PASS: TestIntegration/);
    expect(go.output).toMatch(/--- PASS: TestReceiptVectors/);
  });
});
