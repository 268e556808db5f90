import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { finishedResponse } from "../../src/gateway/openai/responses-answer.js";
import { auditEvents } from "../support/audit-events.js";
import { executionCount } from "../support/executions.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * POST /v1/responses through a real gateway on the generated random-weight model, with the official client unchanged
 * (only the base URL points at Atomic) and, where the wire itself is the point, plain HTTP. The model writes noise,
 * so what holds is what the grammar and the checks hold it to; temperature 0 makes its answers repeatable.
 */
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0 });
});
afterAll(async () => gw?.close());

const weather: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "The current weather in a city",
  parameters: { type: "object", properties: { city: { type: "string", minLength: 1, maxLength: 12 } }, required: ["city"], additionalProperties: false },
  strict: true,
};
const ask = "What is the weather in Paris?";

async function execution(id: string): Promise<Record<string, any>> {
  return (await gw.fetch(`/v1/executions/${id}`)).json();
}

const executionOf = (response: { id: string }) => execution(response.id.slice("resp_".length));


/** An SSE body as its events: the `event:` name and the parsed `data:` of each. */
async function sseEvents(response: Response): Promise<Array<{ event: string | undefined; data: any }>> {
  return (await response.text()).split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const lines = block.split("\n");
    const event = lines.find((line) => line.startsWith("event:"))?.slice(6).trim();
    return { event, data: JSON.parse(lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n")) };
  });
}

describe("text", () => {
  it("is built in the shape the official client's Response type describes (checked by the compiler)", () => {
    // Left out: output_text (the SDKs compute it from the output), error (Atomic's codes are its own, not OpenAI's
    // list) and usage (null until a streamed response ends, as OpenAI sends it, where the type has it optional).
    expectTypeOf<ReturnType<typeof finishedResponse>>().toExtend<Omit<OpenAI.Responses.Response, "output_text" | "error" | "usage">>();
  });

  it("answers in the Response shape, with the execution's id, and stores it under its own endpoint", async () => {
    const { data: response, response: http } = await client.responses.create({
      model: "tiny",
      instructions: "Be brief.",
      input: "Hello",
      max_output_tokens: 8,
      temperature: 0,
      metadata: { ticket: "T-1", contact: "jane.doe@hospital.example" },
      user: "nurse jane.doe@hospital.example",
      // Empty, as the OpenAI Agents SDK sends it on every request: nothing asked for.
      include: [],
    }).withResponse();
    expect(response.id).toBe(`resp_${http.headers.get("x-atomic-execution-id")}`);
    expect(response).toMatchObject({
      object: "response",
      model: "tiny",
      // Cut at max_output_tokens: OpenAI's incomplete.
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      error: null,
      instructions: "Be brief.",
      max_output_tokens: 8,
      temperature: 0,
      top_p: null,
      tools: [],
      tool_choice: "auto",
      parallel_tool_calls: true,
      text: { format: { type: "text" } },
      store: true,
      previous_response_id: null,
      metadata: { ticket: "T-1", contact: "jane.doe@hospital.example" },
      usage: { output_tokens: 8, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + 8);
    expect(response.output).toHaveLength(1);
    const [message] = response.output;
    if (message?.type !== "message") throw new Error(`a ${message?.type} item`);
    expect(message).toMatchObject({ id: expect.stringMatching(/^msg_[0-9a-f]{32}$/), role: "assistant", status: "incomplete" });
    expect(message.content).toEqual([{ type: "output_text", text: expect.any(String), annotations: [], logprobs: [] }]);
    // The client's own convenience field, from the output.
    expect(response.output_text).toBe((message.content[0] as OpenAI.Responses.ResponseOutputText).text);
    expect(response.output_text.length).toBeGreaterThan(0);

    const stored = await executionOf(response);
    expect(stored).toMatchObject({ endpoint: "responses", status: "succeeded", output: response.output_text });
    expect(stored.input).toEqual({
      kind: "chat",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }],
      // The first turn is the instructions: a response that continues this one leaves them out.
      instructions: true,
      metadata: { ticket: "T-1", contact: "[EMAIL_1]" },
      // What GET /v1/responses/:id echoes, redacted as the rest of the record.
      echo: expect.objectContaining({ instructions: "Be brief.", max_output_tokens: 8, metadata: { ticket: "T-1", contact: "[EMAIL_1]" }, user: "nurse [EMAIL_1]" }),
    });
    expect(stored.parameters).toMatchObject({ user: "nurse [EMAIL_1]", finishReason: "length" });
  });

  it("reads a list of input items as the conversation, and answers the same through the stream", async () => {
    const input: OpenAI.Responses.ResponseInput = [
      { role: "developer", content: "Answer in one word." },
      { role: "user", content: [{ type: "input_text", text: "Name a " }, { type: "input_text", text: "colour." }] },
      { type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Blue.", annotations: [] }] },
      { type: "message", role: "user", content: "Another." },
    ];
    const response = await client.responses.create({ model: "tiny", input, max_output_tokens: 6, temperature: 0 });
    expect((await executionOf(response)).input.messages).toEqual([
      { role: "system", content: "Answer in one word." },
      { role: "user", content: "Name a colour." },
      { role: "assistant", content: "Blue." },
      { role: "user", content: "Another." },
    ]);
    const streamed = await client.responses.stream({ model: "tiny", input, max_output_tokens: 6, temperature: 0 }).finalResponse();
    expect(streamed.output_text).toBe(response.output_text);
    expect(streamed.usage).toEqual(response.usage);
  });
});

describe("routing", () => {
  it("lets bidding choose under model auto, naming the chosen model from the first event on", async () => {
    const { data: whole, response: http } = await client.responses.create({ model: "auto", input: "Hi", max_output_tokens: 2 }).withResponse();
    expect(whole.model).toBe("tiny");
    expect(http.headers.get("x-atomic-routing")).toMatch(/^(explore|exploit)$/);
    const events = await sseEvents(await gw.post("/v1/responses", { model: "auto", input: "Hi", max_output_tokens: 2, stream: true }));
    expect(events[0]!.data.response.model).toBe("tiny");
  });
});

describe("structured output", () => {
  const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer", minimum: 0, maximum: 150 } }, required: ["name", "age"], additionalProperties: false };

  it("holds the text to a json_schema format, which the client's parse() reads", async () => {
    const response = await client.responses.parse({
      model: "tiny",
      input: "A person",
      text: { format: { type: "json_schema", name: "person", schema, strict: true } },
      temperature: 0,
    });
    expect(response.status).toBe("completed");
    const value = response.output_parsed as unknown as { name: string; age: number };
    expect(Object.keys(value).sort()).toEqual(["age", "name"]);
    expect(value.name.length).toBeLessThanOrEqual(12);
    expect(Number.isInteger(value.age)).toBe(true);
    expect(response.text!.format).toMatchObject({ type: "json_schema", name: "person", schema });
    const stored = await executionOf(response);
    expect(stored.parameters.grammar).toBe("json_schema");
    expect(stored.output).toEqual(value);
  });

  it("holds the text to a JSON object under json_object", async () => {
    const response = await client.responses.create({ model: "tiny", input: "Anything", text: { format: { type: "json_object" } }, temperature: 0, max_output_tokens: 200 });
    const value = JSON.parse(response.output_text);
    expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
  });
});

describe("tools", () => {
  it("answers a required call as a function_call item, and reads its output fed back", async () => {
    const first = await client.responses.create({ model: "tiny", input: ask, tools: [weather], tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_output_tokens: 100 });
    expect(first.status).toBe("completed");
    expect(first.output).toHaveLength(1);
    const [call] = first.output;
    if (call?.type !== "function_call") throw new Error(`a ${call?.type} item`);
    expect(call).toMatchObject({ type: "function_call", status: "completed", name: "get_weather", call_id: expect.stringMatching(/^call_[A-Za-z0-9]{24}$/) });
    expect(call.id).toBe(`fc_${call.call_id.slice(5)}`);
    const args = JSON.parse(call.arguments);
    expect(Object.keys(args)).toEqual(["city"]);
    expect(args.city.length).toBeGreaterThanOrEqual(1);
    expect(first.output_text).toBe("");
    expect(first.tools).toEqual([{ ...weather }]);
    const stored = await executionOf(first);
    expect(stored.output).toEqual({ tool_calls: [{ id: call.call_id, name: "get_weather", arguments: args }] });
    expect(stored.input).toMatchObject({ tools: [{ name: "get_weather" }], toolChoice: "required", parallelToolCalls: false });

    // The answer's item goes back as the client hands it over, with the call's output.
    const input: OpenAI.Responses.ResponseInput = [{ role: "user", content: ask }, call, { type: "function_call_output", call_id: call.call_id, output: "18 degrees, sunny" }];
    const answer = await client.responses.create({ model: "tiny", input, tools: [weather], tool_choice: "none", temperature: 0, max_output_tokens: 8 });
    expect(answer.output[0]!.type).toBe("message");
    expect(answer.output_text.length).toBeGreaterThan(0);
    expect((await executionOf(answer)).input.messages).toEqual([
      { role: "user", content: ask },
      { role: "assistant", content: "", toolCalls: [{ id: call.call_id, name: "get_weather", arguments: call.arguments }] },
      { role: "tool", content: "18 degrees, sunny", toolCallId: call.call_id },
    ]);
    // The call and its result are read: the prompt is longer than the question alone.
    const bare = await client.responses.create({ model: "tiny", input: ask, tools: [weather], tool_choice: "none", temperature: 0, max_output_tokens: 8 });
    expect(answer.usage!.input_tokens).toBeGreaterThan(bare.usage!.input_tokens + 10);
  });

  it("calls only the function tool_choice names", async () => {
    const time: OpenAI.Responses.FunctionTool = { type: "function", name: "get_time", parameters: { type: "object", properties: { zone: { enum: ["UTC", "CET"] } }, required: ["zone"] }, strict: null };
    const response = await client.responses.create({ model: "tiny", input: ask, tools: [weather, time], tool_choice: { type: "function", name: "get_time" }, temperature: 0, max_output_tokens: 200 });
    expect(response.output.length).toBeGreaterThanOrEqual(1);
    for (const item of response.output) {
      expect(item).toMatchObject({ type: "function_call", name: "get_time" });
      expect(["UTC", "CET"]).toContain(JSON.parse((item as OpenAI.Responses.ResponseFunctionToolCall).arguments).zone);
    }
    // Arguments always satisfy the parameters: a function is strict unless the caller says otherwise.
    expect(response.tools[1]).toMatchObject({ name: "get_time", strict: true });
  });
});

describe("streaming", () => {
  it("sends the Responses events in OpenAI's order, named and numbered, without [DONE]", async () => {
    const response = await gw.post("/v1/responses", { model: "tiny", input: "Hi", max_output_tokens: 6, temperature: 0, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const executionId = response.headers.get("x-atomic-execution-id")!;
    const text = await response.clone().text();
    expect(text).not.toContain("[DONE]");
    const events = await sseEvents(response);
    for (const { event, data } of events) expect(event).toBe(data.type);
    expect(events.map(({ data }) => data.sequence_number)).toEqual(events.map((_, index) => index));
    const types = events.map(({ data }) => data.type);
    const deltas = types.filter((type) => type === "response.output_text.delta").length;
    expect(deltas).toBeGreaterThan(0);
    expect(types).toEqual([
      "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
      ...Array(deltas).fill("response.output_text.delta"),
      "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete",
    ]);
    const byType = (type: string) => events.find(({ data }) => data.type === type)!.data;
    const messageId = `msg_${executionId.replaceAll("-", "")}`;
    expect(byType("response.created").response).toMatchObject({ id: `resp_${executionId}`, status: "in_progress", output: [], usage: null });
    expect(byType("response.output_item.added")).toMatchObject({ output_index: 0, item: { id: messageId, type: "message", role: "assistant", status: "in_progress", content: [] } });
    expect(byType("response.content_part.added")).toMatchObject({ item_id: messageId, output_index: 0, content_index: 0, part: { type: "output_text", text: "" } });
    const streamed = events.filter(({ data }) => data.type === "response.output_text.delta").map(({ data }) => data.delta).join("");
    expect(byType("response.output_text.done")).toMatchObject({ item_id: messageId, text: streamed });
    const final = byType("response.incomplete").response;
    expect(final).toMatchObject({ status: "incomplete", output: [{ id: messageId, status: "incomplete", content: [{ type: "output_text", text: streamed }] }], usage: { output_tokens: 6 } });
    const whole = await client.responses.create({ model: "tiny", input: "Hi", max_output_tokens: 6, temperature: 0 });
    expect(whole.output_text).toBe(streamed);
    expect((await execution(executionId)).output).toBe(streamed);
  });

  it("streams through the client's create({stream: true}) and its stream() helper", async () => {
    const request = { model: "tiny", input: "Hello there", max_output_tokens: 12, temperature: 0 } as const;
    const types: string[] = [];
    let text = "";
    for await (const event of await client.responses.create({ ...request, stream: true })) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types.at(0)).toBe("response.created");
    expect(types.at(-1)).toBe("response.incomplete");

    const stream = client.responses.stream(request);
    let snapshot = "";
    stream.on("response.output_text.delta", (event) => (snapshot = event.snapshot));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(text);
    expect(snapshot).toBe(text);
  });

  it("streams a call whole once checked: opened, its arguments, done", async () => {
    const stream = client.responses.stream({ model: "tiny", input: ask, tools: [weather], tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_output_tokens: 100 });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual([
      "response.created", "response.in_progress", "response.output_item.added",
      "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done", "response.completed",
    ]);
    const final = await stream.finalResponse();
    const [call] = final.output;
    if (call?.type !== "function_call") throw new Error(`a ${call?.type} item`);
    expect(events[2]).toMatchObject({ output_index: 0, item: { type: "function_call", id: call.id, call_id: call.call_id, name: "get_weather", arguments: "", status: "in_progress" } });
    expect(events[4]).toMatchObject({ item_id: call.id, name: "get_weather", arguments: call.arguments });
    expect(Object.keys(JSON.parse(call.arguments))).toEqual(["city"]);
    expect(call.status).toBe("completed");
    const whole = await client.responses.create({ model: "tiny", input: ask, tools: [weather], tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_output_tokens: 100 });
    expect((whole.output[0] as OpenAI.Responses.ResponseFunctionToolCall).arguments).toBe(call.arguments);
  });

  it("reports a failure once streaming has begun as an error event, then response.failed", async () => {
    // JSON cut at 3 tokens fails its check after its text was sent; a stream gets no second attempt.
    const schema = { type: "object", properties: { story: { type: "string", minLength: 40 } }, required: ["story"] };
    const format = { type: "json_schema", name: "story", schema };
    const response = await gw.post("/v1/responses", { model: "tiny", input: "A story", text: { format }, max_output_tokens: 3, temperature: 0, stream: true });
    expect(response.status).toBe(200);
    const events = (await sseEvents(response)).map(({ data }) => data);
    const [error, failed] = events.slice(-2);
    expect(error).toMatchObject({ type: "error", code: "structured_output_invalid", param: null });
    expect(failed).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "structured_output_invalid" }, usage: null } });
    expect(failed.response.output[0]).toMatchObject({ type: "message", status: "incomplete" });
    expect((await execution(response.headers.get("x-atomic-execution-id")!)).error_code).toBe("structured_output_invalid");
  });
});

describe("refusals: a JSON error with a stable code naming the parameter, and nothing stored", () => {
  const call = { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' };
  const cases: Array<{ name: string; body: Record<string, unknown>; code: string; param: string }> = [
    { name: "previous_response_id naming no response", body: { previous_response_id: "resp_1" }, code: "previous_response_not_found", param: "previous_response_id" },
    { name: "store: false", body: { store: false }, code: "store_unsupported", param: "store" },
    { name: "include asking for output Atomic does not have", body: { include: ["reasoning.encrypted_content"] }, code: "invalid_parameter", param: "include[0]" },
    { name: "top_logprobs without their include", body: { top_logprobs: 2 }, code: "top_logprobs_without_logprobs", param: "top_logprobs" },
    { name: "logprobs of calls", body: { include: ["message.output_text.logprobs"], tools: [weather] }, code: "logprobs_with_tools_unsupported", param: "include" },
    { name: "a parameter Atomic does not implement", body: { reasoning: { effort: "low" } }, code: "unknown_parameter", param: "reasoning" },
    { name: "a built-in tool", body: { tools: [{ type: "web_search" }] }, code: "invalid_parameter", param: "tools[0].type" },
    { name: "an image", body: { input: [{ role: "user", content: [{ type: "input_image", image_url: "data:," }] }] }, code: "invalid_parameter", param: "input[0].content[0].type" },
    { name: "an item type Atomic does not serve", body: { input: [{ type: "item_reference", id: "msg_1" }] }, code: "invalid_parameter", param: "input[0].type" },
    { name: "an output answering no call", body: { input: [{ role: "user", content: ask }, { type: "function_call_output", call_id: "call_9", output: "18" }] }, code: "tool_call_id_unknown", param: "input[1].call_id" },
    { name: "a call without its output", body: { input: [{ role: "user", content: ask }, call, { role: "user", content: "and?" }] }, code: "tool_result_missing", param: "input[1]" },
    { name: "a call id used twice", body: { input: [{ role: "user", content: ask }, call, call] }, code: "tool_call_id_duplicate", param: "input[2].call_id" },
    { name: "tool_choice naming no tool given", body: { tools: [weather], tool_choice: { type: "function", name: "get_time" } }, code: "tool_choice_unknown_tool", param: "tool_choice.name" },
    { name: "tool_choice without tools", body: { tool_choice: "required" }, code: "tools_missing", param: "tool_choice" },
    { name: "two tools of one name", body: { tools: [weather, weather] }, code: "tool_name_duplicate", param: "tools[1].name" },
    { name: "a parameter schema the grammar cannot hold", body: { tools: [{ ...weather, parameters: { type: "object", properties: { a: { not: {} } } } }] }, code: "schema_unsupported", param: "tools[0].parameters" },
    { name: "a response schema that is not JSON Schema", body: { text: { format: { type: "json_schema", name: "x", schema: { type: "nonsense" } } } }, code: "schema_unsupported", param: "text.format.schema" },
    { name: "max_output_tokens above the limit", body: { max_output_tokens: 1_000_000 }, code: "max_tokens_too_large", param: "max_output_tokens" },
    { name: "metadata with more than 16 keys", body: { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, code: "invalid_parameter", param: "metadata" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const before = await executionCount(gw.databaseUrl);
      const response = await gw.post("/v1/responses", { model: "tiny", input: ask, ...c.body });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatchObject({ code: c.code, param: c.param });
      expect(await executionCount(gw.databaseUrl)).toBe(before);
    });
  }

  it("asks for the infer scope, and surfaces errors as the client's typed errors", async () => {
    const embedOnly = await gw.issueKey("default", ["embed"]);
    const refused = await gw.post("/v1/responses", { model: "tiny", input: "x" }, { authorization: `Bearer ${embedOnly}` });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
    await expect(client.responses.create({ model: "nope", input: "x" })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });
});

describe("previous_response_id", () => {
  it("continues the response it names: its turns and answer without its instructions, then the new ones, in a chain", async () => {
    const first = await client.responses.create({ model: "tiny", instructions: "Answer in French.", input: "Hello", max_output_tokens: 6, temperature: 0 });
    const firstAnswer = (await executionOf(first)).output;
    const second = await client.responses.create({ model: "tiny", instructions: "Be brief.", previous_response_id: first.id, input: "And again?", max_output_tokens: 6, temperature: 0 });
    expect(second.previous_response_id).toBe(first.id);
    const stored = await executionOf(second);
    expect(stored.input).toMatchObject({ previousResponseId: first.id, instructions: true });
    expect(stored.input.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: firstAnswer },
      { role: "user", content: "And again?" },
    ]);
    // The log names what it continues (not what it said), so an auditor follows the conversation without its content.
    await gw.gateway.audit.sequencer.drain();
    const events = new Map((await auditEvents(gw.databaseUrl)).map((event) => [event.id, event]));
    expect(events.get(stored.id)?.detail).toEqual({ continues: (await executionOf(first)).id });
    expect(events.get((await executionOf(first)).id)?.detail).toBeUndefined();
    // Each record holds its whole conversation, so a chain needs only the last id.
    const third = await client.responses.create({ model: "tiny", previous_response_id: second.id, input: [{ role: "user", content: "Once more." }], max_output_tokens: 4, temperature: 0 });
    const thirdStored = await executionOf(third);
    expect(thirdStored.input).toMatchObject({ previousResponseId: second.id, instructions: false });
    expect(thirdStored.input.messages).toEqual([...stored.input.messages.slice(1), { role: "assistant", content: (await executionOf(second)).output }, { role: "user", content: "Once more." }]);
    // The model read it all: the same input alone makes a shorter prompt.
    const alone = await client.responses.create({ model: "tiny", input: [{ role: "user", content: "Once more." }], max_output_tokens: 4, temperature: 0 });
    expect(third.usage!.input_tokens).toBeGreaterThan(alone.usage!.input_tokens + 5);
  });

  it("gives new PII placeholders of its own, never those the conversation read back from the record holds", async () => {
    const first = await client.responses.create({ model: "tiny", input: "Write to jane.doe@example.org.", max_output_tokens: 2, temperature: 0 });
    expect((await executionOf(first)).input.messages).toEqual([{ role: "user", content: "Write to [EMAIL_1]." }]);
    const second = await client.responses.create({ model: "tiny", previous_response_id: first.id, input: "And to john.roe@example.net.", max_output_tokens: 2, temperature: 0 });
    const messages = (await executionOf(second)).input.messages;
    expect(messages[0]).toEqual({ role: "user", content: "Write to [EMAIL_1]." });
    expect(messages.at(-1)).toEqual({ role: "user", content: "And to [EMAIL_2]." });
  });

  it("takes the outputs of the calls the previous response made, and refuses input that leaves them unanswered", async () => {
    const first = await client.responses.create({ model: "tiny", input: ask, tools: [weather], tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_output_tokens: 100 });
    const [call] = first.output;
    if (call?.type !== "function_call") throw new Error(`a ${call?.type} item`);
    const answer = await client.responses.create({
      model: "tiny", previous_response_id: first.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "18 degrees, sunny" }],
      tools: [weather], tool_choice: "none", temperature: 0, max_output_tokens: 8,
    });
    expect(answer.output[0]!.type).toBe("message");
    expect((await executionOf(answer)).input.messages).toEqual([
      { role: "user", content: ask },
      { role: "assistant", content: "", toolCalls: [{ id: call.call_id, name: "get_weather", arguments: call.arguments }] },
      { role: "tool", content: "18 degrees, sunny", toolCallId: call.call_id },
    ]);
    const count = await executionCount(gw.databaseUrl);
    await expect(client.responses.create({ model: "tiny", previous_response_id: first.id, input: "never mind", tools: [weather] }))
      .rejects.toMatchObject({ status: 400, code: "tool_result_missing", param: "previous_response_id" });
    await expect(client.responses.create({ model: "tiny", previous_response_id: first.id, input: [{ type: "function_call_output", call_id: `call_${"x".repeat(24)}`, output: "?" }], tools: [weather] }))
      .rejects.toMatchObject({ status: 400, code: "tool_call_id_unknown" });
    // A call is answered once: its output again, after the answer that took it, waits for no call.
    await expect(client.responses.create({ model: "tiny", previous_response_id: answer.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "again" }], tools: [weather] }))
      .rejects.toMatchObject({ status: 400, code: "tool_call_id_unknown" });
    expect(await executionCount(gw.databaseUrl)).toBe(count);
  });

  it("refuses what it cannot continue — unknown, another tenant's, not a response, erased — and records nothing", async () => {
    const mine = await client.responses.create({ model: "tiny", input: "Hi", max_output_tokens: 2 });
    const chat = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 2 });
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.issueKey("other", ["infer"]), maxRetries: 0 });
    const count = await executionCount(gw.databaseUrl);
    for (const id of ["resp_1", `resp_${crypto.randomUUID()}`, `resp_${chat.id.slice("chatcmpl-".length)}`]) {
      await expect(client.responses.create({ model: "tiny", previous_response_id: id, input: "x" }), id).rejects.toMatchObject({ status: 400, code: "previous_response_not_found", param: "previous_response_id" });
    }
    await expect(other.responses.create({ model: "tiny", previous_response_id: mine.id, input: "x" })).rejects.toMatchObject({ status: 400, code: "previous_response_not_found" });
    expect(await executionCount(gw.databaseUrl)).toBe(count);
    const erased = await gw.post("/v1/admin/erasure", { execution_id: mine.id.slice("resp_".length) });
    expect(erased.status).toBe(200);
    await expect(client.responses.create({ model: "tiny", previous_response_id: mine.id, input: "x" })).rejects.toMatchObject({ status: 400, code: "previous_response_erased" });
    expect(await executionCount(gw.databaseUrl)).toBe(count);
  });
});

describe("GET /v1/responses/:id", () => {
  /** The answer as retrieved: the POST's, with completed_at from the record (the POST took it a moment earlier). */
  const asRetrieved = (response: OpenAI.Responses.Response) => {
    const { output_text: _computedByTheClient, ...answer } = response;
    return { ...answer, output_text: expect.any(String), completed_at: answer.completed_at === null ? null : expect.any(Number) };
  };

  it("reads a response back as it was answered: text, cut at its limit or not, with its settings", async () => {
    for (const max_output_tokens of [4, 200]) {
      const created = await client.responses.create({ model: "tiny", instructions: "Be brief.", input: "Hello", max_output_tokens, temperature: 0, top_p: 0.9, metadata: { ticket: "T-2" } });
      const retrieved = await client.responses.retrieve(created.id);
      expect(retrieved).toEqual(asRetrieved(created));
      expect(retrieved.output_text).toBe(created.output_text);
      expect(retrieved.status).toBe(max_output_tokens === 4 ? "incomplete" : created.status);
    }
  });

  it("reads back a structured answer with its format, and a function call with its tools", async () => {
    const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 } }, required: ["name"], additionalProperties: false };
    const structured = await client.responses.create({ model: "tiny", input: "A name", text: { format: { type: "json_schema", name: "person", schema, strict: true } }, temperature: 0 });
    expect(await client.responses.retrieve(structured.id)).toEqual(asRetrieved(structured));
    const call = await client.responses.create({ model: "tiny", input: ask, tools: [weather], tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_output_tokens: 100 });
    expect(call.output[0]?.type).toBe("function_call");
    expect(await client.responses.retrieve(call.id)).toEqual(asRetrieved(call));
  });

  it("gives the record's placeholders where the response held PII, and a failed response with its code", async () => {
    const created = await client.responses.create({ model: "tiny", input: "Write to jane.doe@hospital.example", metadata: { contact: "jane.doe@hospital.example" }, max_output_tokens: 4 });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved.metadata).toEqual({ contact: "[EMAIL_1]" });
    expect(JSON.stringify(retrieved)).not.toContain("jane.doe@hospital.example");
    // JSON cut at 3 tokens fails its check: a stream gets no second attempt (as in "streaming" above).
    const format = { type: "json_schema", name: "story", schema: { type: "object", properties: { story: { type: "string", minLength: 40 } }, required: ["story"] } };
    const failing = await gw.post("/v1/responses", { model: "tiny", input: "A story", text: { format }, max_output_tokens: 3, temperature: 0, stream: true });
    await failing.text();
    const failed = await client.responses.retrieve(`resp_${failing.headers.get("x-atomic-execution-id")}`);
    expect(failed).toMatchObject({ status: "failed", output: [], error: { code: "structured_output_invalid" }, completed_at: null, text: { format } });
  });

  it("refuses an unknown id, another tenant's response, a chat completion's and an erased one, and audits each read", async () => {
    const mine = await client.responses.create({ model: "tiny", input: "Hi", max_output_tokens: 2 });
    const chat = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 2 });
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.issueKey("other", ["infer"]), maxRetries: 0 });
    for (const id of ["resp_1", `resp_${crypto.randomUUID()}`, `resp_${chat.id.slice("chatcmpl-".length)}`, "x".repeat(256)]) {
      await expect(client.responses.retrieve(id), id).rejects.toMatchObject({ status: 404, code: "response_not_found", param: "id" });
    }
    await expect(other.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404, code: "response_not_found" });
    const embedOnly = await gw.issueKey("default", ["embed"]);
    expect((await gw.fetch(`/v1/responses/${mine.id}`, { headers: { authorization: `Bearer ${embedOnly}` } })).status).toBe(403);
    await client.responses.retrieve(mine.id);
    expect((await gw.post("/v1/admin/erasure", { execution_id: mine.id.slice("resp_".length) })).status).toBe(200);
    await expect(client.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404, code: "response_erased" });

    await gw.gateway.audit.sequencer.drain();
    const reads = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "content.read" && event.request?.endpoint === "GET /v1/responses/:id");
    const ofMine = reads.filter((event) => event.detail?.["executionId"] === mine.id.slice("resp_".length));
    expect(ofMine.map((event) => event.outcome?.status)).toEqual(["failed", "succeeded", "failed"]);
    expect(ofMine.map((event) => event.outcome?.code ?? null)).toEqual(["response_not_found", null, "response_erased"]);
  });
});
