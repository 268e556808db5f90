import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Token log-probabilities (`logprobs`, `top_logprobs`) on chat and completions, from real llama.cpp inference on the
 * generated test model: every figure here is what the model computed, so the checks are of consistency — the
 * greedy choice is the most probable token, a sampled token's figure is the one its alternatives list gives it,
 * the tokens spell the answer — which misaligned scoring (one position off) would fail.
 */

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
});
afterAll(async () => gw?.close());

interface Alternative { token: string; logprob: number; bytes: number[] }
interface ContentLogprob extends Alternative { top_logprobs: Alternative[] }

const utf8 = (text: string) => [...new TextEncoder().encode(text)];

async function chat(body: Record<string, unknown>) {
  const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Tell me about the sea" }], max_tokens: 12, ...body });
  expect(response.status).toBe(200);
  return response.json();
}

function expectWellFormed(content: ContentLogprob[], top: number): void {
  for (const entry of content) {
    expect(entry.logprob).toBeLessThanOrEqual(0);
    expect(entry.bytes).toEqual(utf8(entry.token));
    expect(entry.top_logprobs).toHaveLength(top);
    const figures = entry.top_logprobs.map((alternative) => alternative.logprob);
    expect(figures).toEqual([...figures].sort((a, b) => b - a));
    for (const alternative of entry.top_logprobs) expect(alternative.bytes).toEqual(utf8(alternative.token));
    // No token can be more probable than the most probable one.
    if (top > 0) expect(entry.logprob).toBeLessThanOrEqual(entry.top_logprobs[0]!.logprob);
    // Probabilities of distinct tokens add up to at most 1.
    expect(figures.reduce((sum, logprob) => sum + Math.exp(logprob), 0)).toBeLessThanOrEqual(1 + 1e-4);
  }
}

describe("chat completions with logprobs", () => {
  it("greedy: each token is the most probable one at its position, and the tokens spell the answer", async () => {
    const body = await chat({ temperature: 0, logprobs: true, top_logprobs: 3 });
    const { content, refusal } = body.choices[0].logprobs;
    expect(refusal).toBeNull();
    expect(content).toHaveLength(body.usage.completion_tokens);
    expectWellFormed(content, 3);
    for (const entry of content as ContentLogprob[]) {
      expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
    }
    expect(content.map((entry: ContentLogprob) => entry.token).join("")).toBe(body.choices[0].message.content);
  });

  it("sampled: a token's figure is the one its position's alternatives give it", async () => {
    const body = await chat({ temperature: 1.5, seed: 11, max_tokens: 24, logprobs: true, top_logprobs: 20 });
    const content = body.choices[0].logprobs.content as ContentLogprob[];
    expectWellFormed(content, 20);
    const listed = content.filter((entry) => entry.top_logprobs.some((alternative) => alternative.token === entry.token));
    expect(listed.length).toBeGreaterThan(0);
    for (const entry of listed) {
      expect(entry.logprob).toBeCloseTo(entry.top_logprobs.find((alternative) => alternative.token === entry.token)!.logprob, 6);
    }
    // At this temperature some token is not the most probable one (the answer is not the greedy one).
    expect(content.some((entry) => entry.token !== entry.top_logprobs[0]!.token)).toBe(true);
  });

  it("top_logprobs defaults to none; without logprobs there are none at all", async () => {
    const only = await chat({ temperature: 0, logprobs: true });
    expect(only.choices[0].logprobs.content.length).toBeGreaterThan(0);
    for (const entry of only.choices[0].logprobs.content) expect(entry.top_logprobs).toEqual([]);
    const none = await chat({ temperature: 0 });
    expect(none.choices[0].logprobs).toBeNull();
    // Scoring does not change the answer.
    expect(only.choices[0].message.content).toBe(none.choices[0].message.content);
  });

  it("each of n answers has its own", async () => {
    const body = await chat({ temperature: 1, seed: 3, n: 2, logprobs: true, top_logprobs: 1 });
    expect(body.choices).toHaveLength(2);
    for (const choice of body.choices) {
      expect(choice.logprobs.content.map((entry: ContentLogprob) => entry.token).join("")).toBe(choice.message.content);
    }
  });

  it("streamed: the last chunk carries them, equal to the whole answer's", async () => {
    const whole = await chat({ temperature: 0, logprobs: true, top_logprobs: 2 });
    const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Tell me about the sea" }], max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
    const chunks = (await response.text()).split("\n\n").filter((block) => block.startsWith("data: {")).map((block) => JSON.parse(block.slice(6)));
    const carrying = chunks.filter((chunk) => chunk.choices[0]?.logprobs != null);
    expect(carrying).toHaveLength(1);
    expect(carrying[0].choices[0].finish_reason).not.toBeNull();
    expect(carrying[0].choices[0].logprobs.content).toEqual(whole.choices[0].logprobs.content);
    const streamedText = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
    expect(streamedText).toBe(whole.choices[0].message.content);
  });

  it("structured output: the tokens are the JSON text the schema held the model to", async () => {
    const body = await chat({
      temperature: 0, logprobs: true, max_tokens: 40,
      response_format: { type: "json_schema", json_schema: { name: "pick", schema: { type: "object", properties: { colour: { enum: ["red", "green", "blue"] } }, required: ["colour"], additionalProperties: false } } },
    });
    const text = body.choices[0].message.content as string;
    expect(["red", "green", "blue"]).toContain(JSON.parse(text).colour);
    expect(body.choices[0].logprobs.content.map((entry: ContentLogprob) => entry.token).join("")).toBe(text);
  });

  it("the official client reads them", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey });
    const completion = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2 });
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content.length).toBe(completion.usage!.completion_tokens);
    expect(content[0]!.top_logprobs).toHaveLength(2);
  });

  it.each([
    { name: "top_logprobs without logprobs", body: { top_logprobs: 2 }, code: "top_logprobs_without_logprobs", param: "top_logprobs" },
    { name: "top_logprobs above 20", body: { logprobs: true, top_logprobs: 21 }, code: "invalid_parameter", param: "top_logprobs" },
    { name: "logprobs with tools", body: { logprobs: true, tools: [{ type: "function", function: { name: "f" } }] }, code: "logprobs_with_tools_unsupported", param: "logprobs" },
  ])("refuses $name with 400 $code, and runs nothing", async ({ body, code, param }) => {
    const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }], ...body });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ code, param });
    expect(response.headers.get("x-atomic-execution-id")).toBeNull();
  });
});

describe("completions with logprobs", () => {
  async function complete(body: Record<string, unknown>) {
    const response = await gw.post("/v1/completions", { model: "tiny", prompt: "Once upon a time", max_tokens: 10, ...body });
    expect(response.status).toBe(200);
    return response.json();
  }

  it("gives OpenAI's legacy lists: tokens, their figures, the alternatives with the chosen one, offsets in the text", async () => {
    const body = await complete({ temperature: 0, logprobs: 3 });
    const { tokens, token_logprobs, top_logprobs, text_offset } = body.choices[0].logprobs;
    expect(tokens).toHaveLength(body.usage.completion_tokens);
    expect(token_logprobs).toHaveLength(tokens.length);
    expect(tokens.join("")).toBe(body.choices[0].text);
    expect(text_offset).toEqual(tokens.map((_: string, i: number) => tokens.slice(0, i).join("").length));
    tokens.forEach((token: string, i: number) => {
      const alternatives = top_logprobs[i] as Record<string, number>;
      expect(Object.keys(alternatives).length).toBeGreaterThanOrEqual(1);
      expect(Object.keys(alternatives).length).toBeLessThanOrEqual(4);
      expect(alternatives[token]).toBe(token_logprobs[i]);
      // Greedy: the chosen token is the most probable.
      expect(token_logprobs[i]).toBe(Math.max(...Object.values(alternatives)));
    });
  });

  it("streamed: on the last chunk", async () => {
    const whole = await complete({ temperature: 0, logprobs: 1 });
    const response = await gw.post("/v1/completions", { model: "tiny", prompt: "Once upon a time", max_tokens: 10, temperature: 0, logprobs: 1, stream: true });
    const chunks = (await response.text()).split("\n\n").filter((block) => block.startsWith("data: {")).map((block) => JSON.parse(block.slice(6)));
    const last = chunks.filter((chunk) => chunk.choices[0]?.finish_reason != null);
    expect(last).toHaveLength(1);
    expect(last[0].choices[0].logprobs).toEqual(whole.choices[0].logprobs);
    expect(chunks.filter((chunk) => chunk.choices[0]?.logprobs != null)).toHaveLength(1);
  });

  it("refuses more than 5 alternatives", async () => {
    const response = await gw.post("/v1/completions", { model: "tiny", prompt: "x", logprobs: 6 });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ code: "invalid_parameter", param: "logprobs" });
  });
});

describe("the Responses API with include: message.output_text.logprobs", () => {
  it("gives each token's on the text part, whole through the official client and on the stream's done events", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey });
    const request = { model: "tiny", input: "Tell me about the sea", max_output_tokens: 10, temperature: 0, include: ["message.output_text.logprobs" as const], top_logprobs: 2 };
    const whole = await client.responses.create(request);
    const part = (whole.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.logprobs).toHaveLength(whole.usage!.output_tokens);
    expect(part.logprobs!.map((entry) => entry.token).join("")).toBe(part.text);
    for (const entry of part.logprobs!) expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });

    const response = await gw.post("/v1/responses", { ...request, stream: true });
    const events = (await response.text()).split("\n\n").filter((block) => block.includes("data: {"))
      .map((block) => JSON.parse(block.split("\n").find((line) => line.startsWith("data: "))!.slice(6)));
    const done = events.find((event) => event.type === "response.output_text.done");
    expect(done.logprobs).toEqual(part.logprobs);
    const finished = events.find((event) => event.type === "response.completed" || event.type === "response.incomplete");
    expect(finished.response.output[0].content[0].logprobs).toEqual(part.logprobs);
    for (const delta of events.filter((event) => event.type === "response.output_text.delta")) expect(delta.logprobs).toEqual([]);

    const plain = await client.responses.create({ ...request, include: [], top_logprobs: undefined });
    expect(((plain.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText).logprobs).toEqual([]);
  });
});
