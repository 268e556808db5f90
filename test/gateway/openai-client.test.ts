import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  // The official client, unchanged: only the base URL and the key point at Atomic.
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0 });
});
afterAll(async () => gw?.close());

describe("the official openai client works against Atomic unchanged", () => {
  it("lists models", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["tiny", "auto"]);
  });

  it("creates a chat completion", async () => {
    const completion = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 8, seed: 1 });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.role).toBe("assistant");
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBe(8);
  });

  it("streams a chat completion", async () => {
    const stream = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 8, seed: 2, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(8);
    const again = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 8, seed: 2 });
    expect(again.choices[0]!.message.content).toBe(text);
  });

  it("creates a text completion", async () => {
    const completion = await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 5 });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
  });

  it("creates embeddings (the client asks for base64 and decodes it)", async () => {
    const embedding = await client.embeddings.create({ model: "tiny", input: ["one", "two"] });
    expect(embedding.data).toHaveLength(2);
    expect(embedding.data[0]!.embedding).toHaveLength(64);
    expect(embedding.data[0]!.embedding.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("returns JSON that satisfies a json_schema response format", async () => {
    const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer", minimum: 0, maximum: 150 } }, required: ["name", "age"], additionalProperties: false };
    const completion = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "A person" }],
      response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
      seed: 5,
    });
    const value = JSON.parse(completion.choices[0]!.message.content!);
    expect(Object.keys(value).sort()).toEqual(["age", "name"]);
    expect(value.name.length).toBeLessThanOrEqual(12);
    expect(Number.isInteger(value.age)).toBe(true);
  });

  it("makes a tool call, takes its result back, and streams the same call through the client's own helper", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{
      type: "function",
      function: {
        name: "get_weather",
        description: "The current weather in a city",
        parameters: { type: "object", properties: { city: { type: "string", minLength: 1, maxLength: 12 } }, required: ["city"], additionalProperties: false },
        strict: true,
      },
    }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const request = { model: "tiny", tools, tool_choice: "required", parallel_tool_calls: false, seed: 3, max_tokens: 100 } as const;
    const completion = await client.chat.completions.create({ ...request, messages });
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    const message = completion.choices[0]!.message;
    const call = message.tool_calls![0]!;
    if (call.type !== "function") throw new Error(`a ${call.type} tool call`);
    expect(call.function.name).toBe("get_weather");
    expect(Object.keys(JSON.parse(call.function.arguments))).toEqual(["city"]);

    // The answer's message goes back as the client hands it over (content null, refusal null), with the result.
    messages.push(message, { role: "tool", tool_call_id: call.id, content: "18 degrees, sunny" });
    const answer = await client.chat.completions.create({ model: "tiny", messages, tools, tool_choice: "none", max_tokens: 8 });
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined();
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);

    const stream = client.chat.completions.stream({ ...request, messages: messages.slice(0, 1) });
    const streamed = (await stream.finalChatCompletion()).choices[0]!;
    expect(streamed.finish_reason).toBe("tool_calls");
    const streamedCall = streamed.message.tool_calls![0]!;
    if (streamedCall.type !== "function") throw new Error(`a ${streamedCall.type} tool call`);
    // The same seed makes the same call; ids are fresh per answer.
    expect(streamedCall.function).toMatchObject({ name: "get_weather", arguments: call.function.arguments });
    expect(streamedCall.id).not.toBe(call.id);
  });

  it("surfaces Atomic's errors as the client's typed errors", async () => {
    await expect(client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });
});
