import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionCount } from "../support/executions.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]), inference: { maxTokensLimit: 64 } });
});
afterAll(async () => gw?.close());


const chat = (extra: Record<string, unknown>) => ({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: 2, ...extra });

describe("bad requests get a JSON error with a stable code and change nothing", () => {
  const cases: Array<{ name: string; path: string; body: unknown; status: number; code: string; param?: string | null }> = [
    { name: "missing messages", path: "/v1/chat/completions", body: { model: "tiny" }, status: 400, code: "missing_parameter", param: "messages" },
    { name: "empty messages", path: "/v1/chat/completions", body: chat({ messages: [] }), status: 400, code: "invalid_parameter", param: "messages" },
    { name: "bad role", path: "/v1/chat/completions", body: chat({ messages: [{ role: "robot", content: "x" }] }), status: 400, code: "invalid_parameter", param: "messages[0].role" },
    { name: "temperature out of range", path: "/v1/chat/completions", body: chat({ temperature: 3 }), status: 400, code: "invalid_parameter", param: "temperature" },
    { name: "unknown parameter", path: "/v1/chat/completions", body: chat({ logit_bias: { "1": -100 } }), status: 400, code: "unknown_parameter", param: "logit_bias" },
    { name: "top_logprobs without logprobs", path: "/v1/chat/completions", body: chat({ top_logprobs: 2 }), status: 400, code: "top_logprobs_without_logprobs", param: "top_logprobs" },
    { name: "n above its bound", path: "/v1/chat/completions", body: chat({ n: 9 }), status: 400, code: "invalid_parameter", param: "n" },
    { name: "max_tokens over the limit", path: "/v1/chat/completions", body: chat({ max_tokens: 65 }), status: 400, code: "max_tokens_too_large", param: "max_tokens" },
    { name: "unknown model", path: "/v1/chat/completions", body: chat({ model: "nope" }), status: 404, code: "model_not_found", param: "model" },
    { name: "unsupported schema keyword", path: "/v1/chat/completions", body: chat({ response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object", properties: { a: { not: { type: "string" } } } } } } }), status: 400, code: "schema_unsupported" },
    { name: "prompt of wrong type", path: "/v1/completions", body: { model: "tiny", prompt: 42 }, status: 400, code: "invalid_parameter", param: "prompt" },
    { name: "empty embedding input", path: "/v1/embeddings", body: { model: "tiny", input: [] }, status: 400, code: "invalid_parameter", param: "input" },
    { name: "task without input", path: "/v1/tasks", body: { model: "tiny" }, status: 400, code: "missing_parameter", param: "input" },
    { name: "task naming an unknown schema", path: "/v1/tasks", body: { input: "x", schema: { name: "nope" } }, status: 404, code: "schema_not_found" },
    { name: "invalid JSON Schema registered", path: "/v1/schemas", body: { name: "bad", schema: { type: "nonsense" } }, status: 400, code: "schema_invalid" },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = await executionCount(gw.databaseUrl);
      const response = await gw.post(`${c.path}`, c.body);
      expect(response.status).toBe(c.status);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const body = await response.json();
      expect(body.error.code).toBe(c.code);
      expect(typeof body.error.message).toBe("string");
      if (c.param !== undefined) expect(body.error.param).toBe(c.param);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(await executionCount(gw.databaseUrl)).toBe(before);
    });
  }

  it("invalid JSON", async () => {
    const response = await gw.fetch(`/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_json");
  });

  it("a body over the size limit", async () => {
    const response = await gw.post(`/v1/chat/completions`, chat({ messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] }));
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe("request_too_large");
  });

  it("an unknown route", async () => {
    const response = await gw.fetch(`/v1/nothing-here`);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("route_not_found");
  });

  it("an unknown or malformed execution id", async () => {
    const unknown = await gw.fetch("/v1/executions/0190c1a2-0000-7000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("execution_not_found");
    for (const id of ["not-a-uuid", "'; DROP TABLE executions; --"]) {
      const response = await gw.fetch(`/v1/executions/${encodeURIComponent(id)}`);
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatchObject({ code: "invalid_parameter", param: "id" });
    }
  });

  it("a streaming request that fails before any output is a plain JSON error, not a stream", async () => {
    const response = await gw.post(`/v1/chat/completions`, chat({ model: "nope", stream: true }));
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });
});
