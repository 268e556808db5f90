import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { executionCount } from "../support/executions.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Tool calling on /v1/chat/completions through a real gateway on the generated random-weight model: what it writes is
 * noise, so every call it makes shows what the grammar and the checks hold it to. The instruct model's calls are
 * in test/models/real-models.test.ts.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
});
afterAll(async () => gw?.close());

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", minLength: 1, maxLength: 12 }, unit: { enum: ["celsius", "fahrenheit"] } },
      required: ["city", "unit"],
    },
  },
};
const time = {
  type: "function",
  function: { name: "get_time", parameters: { type: "object", properties: { zone: { enum: ["UTC", "CET"] } }, required: ["zone"] } },
};
const ask = [{ role: "user", content: "What is the weather in Paris?" }];
const chat = (extra: Record<string, unknown>) => gw.post("/v1/chat/completions", { model: "tiny", messages: ask, seed: 1, max_tokens: 200, ...extra });

async function stored(response: Response): Promise<Record<string, any>> {
  return (await gw.fetch(`/v1/executions/${response.headers.get("x-atomic-execution-id")}`)).json();
}


/** The `data:` payloads of an SSE body. */
async function sseData(response: Response): Promise<string[]> {
  return (await response.text()).split("\n\n").filter((block) => block.trim() !== "")
    .map((block) => block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n"));
}

function expectWeatherArguments(text: string): void {
  const args = JSON.parse(text);
  expect(Object.keys(args)).toEqual(["city", "unit"]);
  expect(args.city.length).toBeGreaterThanOrEqual(1);
  expect(args.city.length).toBeLessThanOrEqual(12);
  expect(["celsius", "fahrenheit"]).toContain(args.unit);
}

describe("tool calls", () => {
  it("answers tool_choice required with calls whose arguments satisfy the tool's schema, and stores them", async () => {
    const response = await chat({ tools: [weather], tool_choice: "required", parallel_tool_calls: false });
    expect(response.status).toBe(200);
    const body = await response.json();
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message).toMatchObject({ role: "assistant", content: null, refusal: null });
    expect(choice.message.tool_calls).toHaveLength(1);
    const [call] = choice.message.tool_calls;
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expectWeatherArguments(call.function.arguments);

    const execution = await stored(response);
    expect(execution.status).toBe("succeeded");
    expect(execution.output).toEqual({ tool_calls: [{ id: call.id, name: "get_weather", arguments: JSON.parse(call.function.arguments) }] });
    expect(execution.parameters.grammar).toBe("tools");
    expect(execution.input).toMatchObject({ kind: "chat", messages: ask, tools: [{ name: "get_weather" }], toolChoice: "required", parallelToolCalls: false });
  });

  it("calls only the tool tool_choice names", async () => {
    for (const seed of [1, 2, 3]) {
      const body = await (await chat({ seed, tools: [weather, time], tool_choice: { type: "function", function: { name: "get_time" } } })).json();
      const calls = body.choices[0].message.tool_calls as Array<{ function: { name: string; arguments: string } }>;
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const call of calls) {
        expect(call.function.name).toBe("get_time");
        expect(["UTC", "CET"]).toContain(JSON.parse(call.function.arguments).zone);
      }
    }
  });

  it("with tool_choice auto answers either text or valid calls", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const body = await (await chat({ seed, tools: [weather, time], max_tokens: 40 })).json();
      const { message, finish_reason } = body.choices[0];
      if (message.tool_calls) {
        expect(finish_reason).toBe("tool_calls");
        expect(message.content).toBeNull();
        for (const call of message.tool_calls) expect(["get_weather", "get_time"]).toContain(call.function.name);
      } else {
        expect(typeof message.content).toBe("string");
        expect(message.content.startsWith("<")).toBe(false);
      }
    }
  });

  it("with tool_choice none answers text and shows the model no tools", async () => {
    const plain = await (await chat({ max_tokens: 8 })).json();
    const response = await chat({ tools: [weather], tool_choice: "none", max_tokens: 8 });
    const body = await response.json();
    expect(body.choices[0].message.tool_calls).toBeUndefined();
    expect(body.choices[0].message.content).toBe(plain.choices[0].message.content);
    expect(body.usage.prompt_tokens).toBe(plain.usage.prompt_tokens);
    expect((await stored(response)).input.toolChoice).toBe("none");
  });

  it("streams calls in OpenAI's chunk shape: the call opened with id and name, then its arguments", async () => {
    const response = await chat({ tools: [weather], tool_choice: "required", parallel_tool_calls: false, stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const deltas = chunks.filter((chunk) => chunk.choices.length > 0).map((chunk) => chunk.choices[0]);
    expect(deltas).toHaveLength(3);
    const [open, args, finish] = deltas;
    expect(open).toMatchObject({ index: 0, finish_reason: null, logprobs: null });
    expect(open.delta).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ index: 0, id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: "" } }],
      refusal: null,
    });
    expect(args.delta).toEqual({ tool_calls: [{ index: 0, function: { arguments: expect.any(String) } }] });
    expectWeatherArguments(args.delta.tool_calls[0].function.arguments);
    expect(finish).toMatchObject({ delta: {}, finish_reason: "tool_calls" });
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
    const execution = await stored(response);
    expect(execution.output.tool_calls[0].id).toBe(open.delta.tool_calls[0].id);
  });

  it("streams several calls by index", async () => {
    // max_tokens leaves room for at most a few calls; the grammar decides how many the model makes.
    for (const seed of [1, 2, 3, 4, 5]) {
      const response = await chat({ seed, tools: [weather, time], tool_choice: "required", stream: true, max_tokens: 400 });
      const deltas = (await sseData(response)).slice(0, -1).map((d) => JSON.parse(d).choices[0].delta);
      const calls = deltas.filter((delta) => delta.tool_calls?.[0].id !== undefined).map((delta) => delta.tool_calls[0]);
      expect(calls.map((call) => call.index)).toEqual(calls.map((_, index) => index));
      const args = deltas.filter((delta) => delta.tool_calls?.[0].id === undefined && delta.tool_calls).map((delta) => delta.tool_calls[0]);
      expect(args.map((arg) => arg.index)).toEqual(calls.map((_, index) => index));
    }
  });

  it("feeds calls and their results back into the prompt", async () => {
    const first = await (await chat({ tools: [weather], tool_choice: "required", parallel_tool_calls: false })).json();
    const assistant = first.choices[0].message;
    // Sent back with the empty fields the Python client's model_dump() writes.
    const sentBack = { ...assistant, audio: null, function_call: null, annotations: null };
    const messages = [...ask, sentBack, { role: "tool", tool_call_id: assistant.tool_calls[0].id, content: '{"temperature": 18, "sky": "clear"}' }];
    const again = await gw.post("/v1/chat/completions", { model: "tiny", messages, tools: [weather], tool_choice: "none", seed: 1, max_tokens: 8 });
    expect(again.status).toBe(200);
    const body = await again.json();
    expect(body.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    expect(typeof body.choices[0].message.content).toBe("string");
    // The call and its result are read: the prompt is longer than the question alone with the same tools.
    const bare = await (await gw.post("/v1/chat/completions", { model: "tiny", messages: ask, tools: [weather], tool_choice: "none", seed: 1, max_tokens: 8 })).json();
    expect(body.usage.prompt_tokens).toBeGreaterThan(bare.usage.prompt_tokens + 20);
    const execution = await stored(again);
    expect(execution.input.messages[1]).toMatchObject({ role: "assistant", content: "", toolCalls: [{ id: assistant.tool_calls[0].id, name: "get_weather" }] });
    expect(execution.input.messages[2]).toEqual({ role: "tool", content: '{"temperature": 18, "sky": "clear"}', toolCallId: assistant.tool_calls[0].id });
  });

  it("holds a text answer beside tools to the response format", async () => {
    const schema = { type: "object", properties: { answer: { enum: ["yes", "no"] } }, required: ["answer"] };
    for (const seed of [1, 2, 3]) {
      const body = await (await chat({ seed, tools: [time], response_format: { type: "json_schema", json_schema: { name: "yn", schema } } })).json();
      const { message } = body.choices[0];
      if (!message.tool_calls) expect(["yes", "no"]).toContain(JSON.parse(message.content).answer);
    }
  });

  it("scans tool definitions for PII like messages: the model is steered to placeholders, nothing is stored raw", async () => {
    const EMAIL = "jane.doe@hospital.example";
    const PHONE = "+44 20 7946 0958";
    const notify = {
      type: "function",
      function: {
        name: "notify",
        description: `Notify the ward; escalations go to ${PHONE}`,
        parameters: { type: "object", properties: { to: { enum: [EMAIL] } }, required: ["to"] },
      },
    };
    const response = await chat({ tools: [notify], tool_choice: "required", parallel_tool_calls: false });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(JSON.parse(body.choices[0].message.tool_calls[0].function.arguments)).toEqual({ to: "[EMAIL_1]" });
    const execution = await stored(response);
    expect(execution.parameters.policy).toMatchObject({ redacted: true, piiKinds: ["email", "phone"] });
    expect(JSON.stringify(execution)).not.toContain(EMAIL);
    expect(JSON.stringify(execution)).not.toContain("7946");
  });
});

describe("n, user, name and penalties", () => {
  it("answers n choices, each an execution of its own with its own seed", async () => {
    const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: ask, n: 3, seed: 5, max_tokens: 6, temperature: 1 });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.choices.map((choice: { index: number }) => choice.index)).toEqual([0, 1, 2]);
    const ids = response.headers.get("x-atomic-execution-id")!.split(", ");
    expect(ids).toHaveLength(3);
    expect(body.id).toBe(`chatcmpl-${ids[0]}`);
    const executions = await Promise.all(ids.map(async (id) => (await gw.fetch(`/v1/executions/${id}`)).json()));
    expect(executions.map((e) => e.parameters.seed)).toEqual([5, 6, 7]);
    expect(executions.map((e) => e.output)).toEqual(body.choices.map((choice: { message: { content: string } }) => choice.message.content));
    expect(body.usage.completion_tokens).toBe(executions.reduce((sum, e) => sum + e.usage.completion_tokens, 0));
    const completions = await gw.post("/v1/completions", { model: "tiny", prompt: "Once", n: 2, max_tokens: 3 });
    expect((await completions.json()).choices).toHaveLength(2);
  });

  it("stores the end user and message names, redacted", async () => {
    const response = await gw.post("/v1/chat/completions", {
      model: "tiny", max_tokens: 2, user: "nurse jane.doe@hospital.example",
      messages: [{ role: "user", name: "jane", content: "Hello" }],
    });
    const execution = await stored(response);
    expect(execution.parameters.user).toBe("nurse [EMAIL_1]");
    expect(execution.input.messages[0]).toEqual({ role: "user", content: "Hello", name: "jane" });
    // The permanent log keeps a keyed hash of it, as of every text a caller wrote.
    await expect.poll(async () => (await auditEvents(gw.databaseUrl)).find((event) => event.id === execution.id)).toBeDefined();
    const event = (await auditEvents(gw.databaseUrl)).find((e) => e.id === execution.id)!;
    expect(event.parameters).toMatchObject({ userHash: expect.any(String) });
    expect(JSON.stringify(event)).not.toContain("nurse");
    const embedding = await gw.post("/v1/embeddings", { model: "tiny", input: "x", user: "u-1" });
    expect((await stored(embedding)).parameters.user).toBe("u-1");
  });

  it("applies presence and frequency penalties, 0 included", async () => {
    const base = { model: "tiny", messages: ask, seed: 9, max_tokens: 24, temperature: 1 };
    const plain = await (await gw.post("/v1/chat/completions", base)).json();
    const zero = await gw.post("/v1/chat/completions", { ...base, presence_penalty: 0, frequency_penalty: 0 });
    expect(zero.status).toBe(200);
    expect((await zero.json()).choices[0].message.content).toBe(plain.choices[0].message.content);
    const penalised = await gw.post("/v1/chat/completions", { ...base, presence_penalty: 2, frequency_penalty: 2 });
    expect((await penalised.json()).choices[0].message.content).not.toBe(plain.choices[0].message.content);
    expect((await stored(penalised)).parameters.repeatPenalty).toEqual({ penalty: 1, presencePenalty: 2, frequencyPenalty: 2 });
  });
});

describe("bad tool requests get a JSON error with a stable code and store nothing", () => {
  const call = { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' } };
  const cases: Array<{ name: string; body: Record<string, unknown>; code: string; param: string }> = [
    { name: "a parameter schema that is not JSON Schema", body: { tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "nonsense" } } } } }] }, code: "schema_unsupported", param: "tools[0].function.parameters" },
    { name: "a parameter schema ajv refuses", body: { tools: [weather, { type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "string", pattern: "(" } } } } }] }, code: "schema_invalid", param: "tools[1].function.parameters" },
    { name: "an unusable schema under tool_choice none", body: { tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { not: {} } } } } }], tool_choice: "none" }, code: "schema_unsupported", param: "tools[0].function.parameters" },
    { name: "a function name the grammar cannot carry", body: { tools: [{ type: "function", function: { name: "get weather" } }] }, code: "invalid_parameter", param: "tools[0].function.name" },
    { name: "two tools of one name", body: { tools: [weather, weather] }, code: "tool_name_duplicate", param: "tools[1].function.name" },
    { name: "tool_choice naming an unknown tool", body: { tools: [weather], tool_choice: { type: "function", function: { name: "get_time" } } }, code: "tool_choice_unknown_tool", param: "tool_choice.function.name" },
    { name: "tool_choice without tools", body: { tool_choice: "auto" }, code: "tools_missing", param: "tool_choice" },
    { name: "parallel_tool_calls without tools", body: { parallel_tool_calls: false }, code: "tools_missing", param: "parallel_tool_calls" },
    { name: "a tool message without a matching call", body: { messages: [...ask, { role: "tool", tool_call_id: "call_9", content: "18" }] }, code: "tool_call_id_unknown", param: "messages[1].tool_call_id" },
    { name: "a call without its result", body: { messages: [...ask, { role: "assistant", content: null, tool_calls: [call] }, { role: "user", content: "and?" }] }, code: "tool_result_missing", param: "messages[1].tool_calls" },
    { name: "a call id used twice", body: { messages: [...ask, { role: "assistant", tool_calls: [call, call] }] }, code: "tool_call_id_duplicate", param: "messages[1].tool_calls[1].id" },
    { name: "an assistant message with neither content nor calls", body: { messages: [...ask, { role: "assistant", content: null }] }, code: "invalid_parameter", param: "messages[1].content" },
    { name: "n above the bound", body: { n: 9 }, code: "invalid_parameter", param: "n" },
    { name: "n > 1 streamed", body: { n: 2, stream: true }, code: "n_with_stream_unsupported", param: "n" },
    { name: "the legacy function_call", body: { function_call: "auto" }, code: "unknown_parameter", param: "function_call" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const before = await executionCount(gw.databaseUrl);
      const response = await chat(c.body);
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.error).toMatchObject({ code: c.code, param: c.param });
      expect(await executionCount(gw.databaseUrl)).toBe(before);
    });
  }
});
