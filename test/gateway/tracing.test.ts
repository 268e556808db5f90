import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { trace } from "@opentelemetry/api";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { databaseTcpAddress } from "../../src/bootstrap/egress.js";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ConfigError } from "../../src/config/load.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import "../support/provided-context.js";
import { writeTestModels } from "../support/models.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * OpenTelemetry tracing on a real gateway, exporting over OTLP/HTTP to a collector on loopback: a request's span
 * continues the caller's `traceparent`, each pipeline step and the model host's generation are its descendants, an
 * asynchronous task carries the trace through its workflow into its activities, and the trace id reaches the log
 * lines and the execution rows. Off (the default), nothing is exported and no connection is opened for it.
 */

const models = writeTestModels([{ id: "tiny" }]);
const PROMPT = "The tracing test prompt: Maria Lopez, maria@example.org";

function traceparent(): { header: string; traceId: string; parentSpanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  return { header: `00-${traceId}-${parentSpanId}-01`, traceId, parentSpanId };
}

const chat = (gw: TestGateway, headers: Record<string, string>) =>
  gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: PROMPT }], max_tokens: 4 }, headers);

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function storedTraceId(gw: TestGateway, executionId: string): Promise<string | null> {
  const pool = new pg.Pool({ connectionString: gw.databaseUrl, max: 1 });
  try {
    return (await pool.query<{ trace_id: string | null }>("SELECT trace_id FROM executions WHERE id = $1", [executionId])).rows[0]!.trace_id;
  } finally {
    await pool.end();
  }
}

describe("tracing off (the default)", () => {
  let gw: TestGateway;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gw = await startTestGateway({ models, egressAllow: [receiver.address] });
  });
  afterAll(async () => {
    await gw?.close();
    await receiver?.close();
  });

  it("exports nothing, opens no connection for it, and keeps no trace id, whatever the caller sends", async () => {
    const destinations: number[] = [];
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function recordingConnect(this: net.Socket, ...args: unknown[]) {
      const options = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { port?: number | string } | number | undefined;
      const port = typeof options === "object" ? options.port : options;
      if (port !== undefined) destinations.push(Number(port));
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof connect;
    let response: Response;
    try {
      response = await chat(gw, { traceparent: traceparent().header });
      expect(response.status).toBe(200);
      await gw.gateway.tracing.flush();
    } finally {
      net.Socket.prototype.connect = connect;
    }
    // The API's no-op tracer: spans that record nothing.
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
    expect(gw.gateway.tracing.spans).toBeNull();
    // The test's own requests to the gateway, and the database when it is reached over TCP.
    const database = databaseTcpAddress(gw.databaseUrl);
    const allowed = new Set([Number(new URL(gw.url).port), ...(database === null ? [] : [Number(database.split(":").pop())])]);
    expect(destinations).toContain(Number(new URL(gw.url).port));
    expect(destinations.filter((port) => !allowed.has(port))).toEqual([]);
    expect(receiver.requests).toBe(0);
    expect(gw.logs.some((line) => "trace_id" in line)).toBe(false);
    const executionId = response.headers.get("x-atomic-execution-id")!;
    expect(await storedTraceId(gw, executionId)).toBeNull();
    expect((await (await gw.fetch(`/v1/executions/${executionId}`)).json()).trace_id).toBeNull();
  });
});

describe("tracing on, exporting to a collector on the egress allowlist", () => {
  let gw: TestGateway;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const { address, namespace } = sharedTemporal("atomic-test-tracing");
    gw = await startTestGateway({
      models,
      egressAllow: [receiver.address],
      // A bare collector address gets the standard /v1/traces.
      tracing: { enabled: true, endpoint: receiver.origin, serviceName: "atomic-under-test" },
      temporal: { address, namespace, hostId: "gateway-tracing-test" },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await receiver?.close();
  });

  const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
  const named = (spans: ReceivedSpan[], name: string) => {
    const found = spans.filter((span) => span.name === name);
    expect(found.map((span) => span.name), `span ${name}`).toEqual([name]);
    return found[0]!;
  };

  it("continues the caller's trace: the request's span, each pipeline step under it, the model host's under infer", async () => {
    const caller = traceparent();
    const response = await chat(gw, { traceparent: caller.header });
    expect(response.status).toBe(200);
    const executionId = response.headers.get("x-atomic-execution-id")!;
    await gw.gateway.tracing.flush();

    const spans = inTrace(caller.traceId);
    const request = named(spans, "POST /v1/chat/completions");
    expect(request).toMatchObject({ parentSpanId: caller.parentSpanId, kind: 2, service: "atomic-under-test", scope: "atomic" });
    expect(request.attributes).toEqual({ "http.request.method": "POST", "http.route": "/v1/chat/completions", "http.response.status_code": 200 });
    for (const step of ["auth", "ingest", "police", "select", "adapt", "infer", "validate", "record"]) {
      expect(named(spans, step).parentSpanId, step).toBe(request.spanId);
    }
    expect(named(spans, "select").attributes).toMatchObject({ "gen_ai.request.model": "tiny", "atomic.decision.mode": "named" });
    expect(named(spans, "adapt").attributes).toMatchObject({ "gen_ai.request.model": "tiny", "atomic.task_class": expect.stringMatching(/^chat\.completions:/) });
    const infer = named(spans, "infer");
    expect(infer.attributes).toMatchObject({ "gen_ai.request.model": "tiny", "atomic.attempt": 1, "gen_ai.usage.output_tokens": expect.any(Number) });
    // Made in the model host process, sent over IPC, exported by the gateway.
    const generation = named(spans, "llama.generate");
    expect(generation).toMatchObject({ parentSpanId: infer.spanId, service: "atomic-under-test", scope: "atomic-model-host" });
    expect(generation.attributes).toMatchObject({ "gen_ai.request.model": "tiny", "gen_ai.usage.input_tokens": expect.any(Number) });

    // Nothing of the request's content, and no ids, leaves in a span.
    const exported = JSON.stringify(spans.map((span) => span.attributes));
    for (const secret of ["Maria", "maria@example.org", executionId, response.headers.get("x-request-id")!]) expect(exported).not.toContain(secret);

    // The trace id in the request's log lines and in its execution row.
    const lines = gw.logs.filter((line) => line["requestId"] === response.headers.get("x-request-id"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ trace_id: caller.traceId, span_id: request.spanId });
    expect(await storedTraceId(gw, executionId)).toBe(caller.traceId);
    expect((await (await gw.fetch(`/v1/executions/${executionId}`)).json()).trace_id).toBe(caller.traceId);
  });

  it("ends a streamed answer's span when its last event is sent: the steps that streamed end inside it", async () => {
    const caller = traceparent();
    const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: PROMPT }], max_tokens: 24, stream: true }, { traceparent: caller.header });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("[DONE]");
    await until(async () => {
      await gw.gateway.tracing.flush();
      return inTrace(caller.traceId).some((span) => span.name === "POST /v1/chat/completions");
    });
    const spans = inTrace(caller.traceId);
    const request = named(spans, "POST /v1/chat/completions");
    for (const step of ["infer", "validate", "record"]) {
      const child = named(spans, step);
      expect(child.parentSpanId, step).toBe(request.spanId);
      expect(child.endTimeUnixNano <= request.endTimeUnixNano, `${step} ends inside the request's span`).toBe(true);
    }
  });

  it("starts a trace of its own for a caller that sends none, and refusals are spans too", async () => {
    const before = new Set(receiver.spans.map((span) => span.traceId));
    const refused = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer not-a-key" }, body: "{}" });
    expect(refused.status).toBe(401);
    await gw.gateway.tracing.flush();
    const request = receiver.spans.find((span) => span.name === "POST /v1/chat/completions" && !before.has(span.traceId))!;
    expect(request).toMatchObject({ parentSpanId: undefined, attributes: { "http.response.status_code": 401 } });
    const auth = named(inTrace(request.traceId), "auth");
    expect(auth).toMatchObject({ parentSpanId: request.spanId, status: { code: 2 }, attributes: { "atomic.error_code": "credentials_invalid" } });
  });

  it("carries the trace into an asynchronous task's workflow, its activities, their steps and its execution row", async () => {
    const caller = traceparent();
    const submitted = await gw.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4 }, { traceparent: caller.header });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    for (;;) {
      const task = (await (await gw.fetch(`/v1/tasks/${id}`)).json()) as { status: string };
      if (task.status !== "running") {
        expect(task.status).toBe("succeeded");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The workflow's own spans reach the gateway through a sink the worker calls after the workflow's last activation.
    await until(async () => {
      await gw.gateway.tracing.flush();
      return inTrace(caller.traceId).some((span) => span.name === "RunWorkflow:taskWorkflow");
    });

    const spans = inTrace(caller.traceId);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    /** The span's ancestors' names, nearest first, up to the caller's span. */
    const ancestry = (span: ReceivedSpan): string[] => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      return parent === undefined ? [] : [parent.name, ...ancestry(parent)];
    };
    const request = named(spans, "POST /v1/tasks");
    expect(request.parentSpanId).toBe(caller.parentSpanId);
    expect(ancestry(named(spans, "decompose"))).toEqual(["POST /v1/tasks"]);
    expect(named(spans, "decompose").attributes).toEqual({ "atomic.microtasks": 1 });
    expect(ancestry(named(spans, "StartWorkflow:taskWorkflow"))).toEqual(["POST /v1/tasks"]);
    expect(ancestry(named(spans, "RunWorkflow:taskWorkflow"))).toEqual(["StartWorkflow:taskWorkflow", "POST /v1/tasks"]);
    // Four tokens on a model the gateway's own worker hosts: inferred in place, as a local activity.
    const microtask = named(spans, "RunActivity:runMicrotaskHere");
    expect(ancestry(microtask)).toEqual(["StartActivity:runMicrotaskHere", "RunWorkflow:taskWorkflow", "StartWorkflow:taskWorkflow", "POST /v1/tasks"]);
    expect(ancestry(named(spans, "infer"))[0]).toBe("RunActivity:runMicrotaskHere");
    expect(ancestry(named(spans, "llama.generate")).slice(0, 2)).toEqual(["infer", "RunActivity:runMicrotaskHere"]);
    // The task's own record, written by an activity of the workflow, names the caller's trace.
    expect(await storedTraceId(gw, id)).toBe(caller.traceId);
  });
});

describe("a collector the egress allowlist does not name", () => {
  const config = (extra: Record<string, unknown> = {}) => ({
    dataDir: mkdtempSync(join(tmpdir(), "atomic-tracing-")),
    // Never opened: the start is refused before anything is.
    database: { url: "postgres://nobody@127.0.0.1:1/none" },
    tracing: { enabled: true, endpoint: "http://10.0.0.9:4318/v1/traces" },
    egress: { allow: ["10.0.0.9:4317"] },
    ...extra,
  });

  it("refuses to start the gateway, with one line that says what to add", async () => {
    const start = startGateway(ConfigSchema.parse(config()), createLogger({ level: "silent" }));
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/^tracing\.endpoint http:\/\/10\.0\.0\.9:4318 is not on the egress allowlist: add "10\.0\.0\.9:4318" to egress\.allow to export traces there, or unset tracing\.endpoint$/);
    // Nothing was registered on the way.
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  });

  it("makes `atomic serve` exit with that line alone on stderr", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "atomic-tracing-config-")), "atomic.config.json");
    writeFileSync(file, JSON.stringify(config()));
    const run = promisify(execFile)(process.execPath, [inject("atomicCli"), "--config", file, "serve"], { encoding: "utf8" });
    const failure = (await run.then(() => null, (error: unknown) => error)) as { code: number; stderr: string } | null;
    expect(failure).not.toBeNull();
    expect(failure!.code).toBe(78);
    expect(failure!.stderr).toMatch(/^atomic: tracing\.endpoint http:\/\/10\.0\.0\.9:4318 is not on the egress allowlist: [^\n]*\n$/);
  });
});
