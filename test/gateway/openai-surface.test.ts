import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { until } from "../support/until.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }, { id: "tiny-embed", options: { seed: 2 }, capabilities: ["embedding"] }]) });
});
afterAll(async () => gw?.close());

/** Splits an SSE body into its `data:` payloads. */
async function sseData(response: Response): Promise<string[]> {
  const text = await response.text();
  return text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const lines = block.split("\n").filter((l) => l.startsWith("data:"));
    return lines.map((l) => l.slice(5).trimStart()).join("\n");
  });
}

describe("GET /v1/models", () => {
  it("lists every pinned model with its digest and state", async () => {
    const response = await gw.fetch(`/v1/models`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.object).toBe("list");
    expect(body.data.map((m: { id: string }) => m.id)).toEqual(["tiny", "tiny-embed", "auto"]);
    // "auto" is the bidding among the models that generate; an embedding-only model is not one of them.
    expect(body.data[2]).toMatchObject({ object: "model", atomic: { routing: "bidding", capabilities: ["chat", "completion"], candidates: ["tiny"] } });
    expect(body.data[0]).toMatchObject({ object: "model", owned_by: "atomic", atomic: { state: "ready", capabilities: ["chat", "completion", "embedding"] } });
    expect(body.data[0].atomic.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("answers one model by id and 404 for an unknown one", async () => {
    expect((await (await gw.fetch(`/v1/models/tiny`)).json()).id).toBe("tiny");
    const missing = await gw.fetch(`/v1/models/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("model_not_found");
  });
});

describe("POST /v1/chat/completions", () => {
  it("answers with an OpenAI chat.completion and stores the execution", async () => {
    const response = await gw.post(`/v1/chat/completions`, {
      model: "tiny",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }],
      max_tokens: 12,
      seed: 7,
      temperature: 0.5,
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ object: "chat.completion", model: "tiny", choices: [{ index: 0, message: { role: "assistant" } }] });
    expect(typeof body.choices[0].message.content).toBe("string");
    expect(["stop", "length"]).toContain(body.choices[0].finish_reason);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(12);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);

    const executionId = response.headers.get("x-atomic-execution-id")!;
    expect(body.id).toBe(`chatcmpl-${executionId}`);
    const stored = await (await gw.fetch(`/v1/executions/${executionId}`)).json();
    expect(stored).toMatchObject({
      id: executionId,
      endpoint: "chat.completions",
      model: "tiny",
      status: "succeeded",
      output: body.choices[0].message.content,
      request_id: response.headers.get("x-request-id"),
      usage: body.usage,
    });
    expect(stored.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.parameters).toMatchObject({ maxTokens: 12, temperature: 0.5, seed: 7 });
  });

  it("gives the same answer for the same seed", async () => {
    const ask = async () => (await (await gw.post(`/v1/chat/completions`, {
      model: "tiny", messages: [{ role: "user", content: "Same?" }], max_tokens: 16, seed: 42, temperature: 1,
    })).json()).choices[0].message.content;
    expect(await ask()).toBe(await ask());
  });

  it("streams chat.completion.chunk events ending in [DONE]", async () => {
    const response = await gw.post(`/v1/chat/completions`, {
      model: "tiny", messages: [{ role: "user", content: "Stream" }], max_tokens: 10, seed: 3, stream: true, stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const executionId = response.headers.get("x-atomic-execution-id");
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: `chatcmpl-${executionId}`, object: "chat.completion.chunk", model: "tiny" });
    }
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
    const finish = chunks.at(-2);
    expect(finish.choices[0].delta).toEqual({});
    expect(["stop", "length"]).toContain(finish.choices[0].finish_reason);
    const streamed = chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join("");
    const stored = await (await gw.fetch(`/v1/executions/${executionId}`)).json();
    expect(stored.output).toBe(streamed);
  });
});

describe("structured chat output", () => {
  it("json_object mode returns a JSON object", async () => {
    const body = await (await gw.post(`/v1/chat/completions`, {
      model: "tiny", messages: [{ role: "user", content: "JSON please" }], response_format: { type: "json_object" }, seed: 4,
    })).json();
    const value = JSON.parse(body.choices[0].message.content);
    expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
  });

  it("streams grammar-constrained JSON that parses once the stream ends", async () => {
    const schema = { type: "object", properties: { color: { enum: ["red", "green"] }, count: { type: "integer", minimum: 1, maximum: 9 } }, required: ["color", "count"] };
    const response = await gw.post(`/v1/chat/completions`, {
      model: "tiny", messages: [{ role: "user", content: "x" }], stream: true, seed: 8,
      response_format: { type: "json_schema", json_schema: { name: "pick", schema } },
    });
    const data = await sseData(response);
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    const value = JSON.parse(text);
    expect(["red", "green"]).toContain(value.color);
    expect(value.count).toBeGreaterThanOrEqual(1);
    expect(value.count).toBeLessThanOrEqual(9);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });
});

describe("POST /v1/completions", () => {
  it("completes a prompt", async () => {
    const response = await gw.post(`/v1/completions`, { model: "tiny", prompt: "Once", max_tokens: 8, seed: 1 });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ object: "text_completion", model: "tiny", choices: [{ index: 0, logprobs: null }] });
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(8);
  });

  it("streams text_completion events ending in [DONE]", async () => {
    const response = await gw.post(`/v1/completions`, { model: "tiny", prompt: "Once", max_tokens: 8, seed: 1, stream: true });
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
  });
});

describe("POST /v1/embeddings", () => {
  it("returns one float vector per input", async () => {
    const response = await gw.post(`/v1/embeddings`, { model: "tiny-embed", input: ["alpha", "beta"] });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(2);
    expect(body.data[0].embedding).toHaveLength(64);
    expect(body.data[0].embedding).not.toEqual(body.data[1].embedding);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("encodes base64 as little-endian float32, identical to the float form", async () => {
    const floats = (await (await gw.post(`/v1/embeddings`, { model: "tiny-embed", input: "gamma" })).json()).data[0].embedding as number[];
    const encoded = (await (await gw.post(`/v1/embeddings`, { model: "tiny-embed", input: "gamma", encoding_format: "base64" })).json()).data[0].embedding as string;
    const bytes = Buffer.from(encoded, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(decoded).toEqual(floats.map((f) => Math.fround(f)));
  });

  it("stops embedding once the caller has gone, so the next request does not wait for the rest", async () => {
    const host = gw.gateway.engine.host("tiny-embed");
    const caller = new AbortController();
    // Minutes of work on the old host, which embedded every input of an abandoned request before the next one's.
    const abandoned = gw.fetch("/v1/embeddings", {
      method: "POST", headers: { "content-type": "application/json" }, signal: caller.signal,
      body: JSON.stringify({ model: "tiny-embed", input: Array.from({ length: 256 }, (_, i) => `${i} ${"lorem ipsum ".repeat(250)}`) }),
    }).catch((error: Error) => error);
    await until(() => host.status().inFlight > 0);
    caller.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await until(() => host.status().inFlight === 0 && host.status().queued === 0);
    const next = await gw.post("/v1/embeddings", { model: "tiny-embed", input: "hello" });
    expect(next.status).toBe(200);
    await next.text();
  });

  it("refuses a model without the embedding capability for chat", async () => {
    const response = await gw.post(`/v1/chat/completions`, { model: "tiny-embed", messages: [{ role: "user", content: "x" }] });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("model_capability_missing");
  });
});

describe("health and request ids", () => {
  it("reports liveness and readiness", async () => {
    expect((await gw.fetch(`/healthz`)).status).toBe(200);
    const ready = await gw.fetch(`/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", database: "ok" });
  });

  it("puts the request id on the response and on every log line of the request", async () => {
    const response = await gw.post(`/v1/completions`, { model: "tiny", prompt: "id", max_tokens: 2 }, { "x-request-id": "caller-123" });
    expect(response.headers.get("x-request-id")).toBe("caller-123");
    await response.text();
    const lines = gw.logs.filter((l) => l.requestId === "caller-123");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.msg === "request" && l.status === 200)).toBe(true);

    const generated = await gw.fetch(`/healthz`, { headers: { "x-request-id": "bad id with spaces\n" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
