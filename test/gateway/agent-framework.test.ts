import net from "node:net";
import {
  Agent, handoff, OpenAIChatCompletionsModel, OpenAIResponsesModel, run, setDefaultOpenAIClient, setTracingDisabled, tool,
  type HandoffInputData, type Model,
} from "@openai/agents";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeModelFamily } from "../support/models.js";

/**
 * An agent framework's own loop against the gateway: the OpenAI Agents SDK for JavaScript, unchanged (only its
 * OpenAI client points at Atomic), runs a tool task with the real instruct model (SmolLM2 135M) making the calls,
 * over the Responses API (the SDK's default) and over Chat Completions. The SDK's tracing is off, and every TCP
 * connection this process opens is recorded: none may leave loopback.
 *
 * The task is shaped for a 135M model, which is no agent (docs/api.md, Tool calling): a Broker must call one of two
 * tools (tool_choice "required", one call per turn), then hand off to an Answerer that has no tools and answers from the
 * result. Offered a tool again after its result, or shown more than one call before answering, the model writes
 * another call instead of an answer (measured), so each step's tools are enabled only while it is next (the SDK's
 * isEnabled) and the Answerer is not shown the handoff itself (the handoff's inputFilter). The answer is another
 * agent's because the SDK sends an agent's parallel_tool_calls even on a turn with no tool enabled, which the
 * gateway refuses (400 tools_missing) as OpenAI's Chat Completions does.
 */
const INSTRUCT = "smollm2-135m-instruct";

/** Where every socket of this process connected: a host, or a Unix socket's path. */
const connections: string[] = [];
const connect = net.Socket.prototype.connect;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect() and http agents hand over their arguments normalized, as one array.
    const [first, second] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const options = typeof first === "object" && first !== null ? (first as { host?: string; path?: string }) : {};
    // connect(port[, host]) defaults to localhost, as does an options object without a host.
    connections.push(options.path ?? options.host ?? (typeof second === "string" ? second : "localhost"));
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  setTracingDisabled(true);
  gateway = await startTestGateway({ models: writeModelFamily([INSTRUCT]) });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.adminKey, maxRetries: 0 });
  setDefaultOpenAIClient(client);
});

afterAll(async () => {
  await gateway?.close();
  net.Socket.prototype.connect = connect;
});

/** What the run has done: the tools are offered until one has answered, the handoff after. */
interface Progress { answered?: boolean }
interface Call { name: string; args: unknown }

function agents(model: Model, calls: Call[]) {
  const pending = ({ runContext }: { runContext: { context: Progress } }) => !runContext.context.answered;
  const getStockPrice = tool({
    name: "get_stock_price",
    description: "The price of a stock in US dollars, by its ticker symbol",
    parameters: z.object({ symbol: z.string().min(1).max(8) }),
    isEnabled: pending,
    execute: async (args, runContext) => {
      calls.push({ name: "get_stock_price", args });
      (runContext!.context as Progress).answered = true;
      return `${args.symbol} trades at 120 USD.`;
    },
  });
  const convertCurrency = tool({
    name: "convert_currency",
    description: "Converts an amount of money from one currency to another",
    parameters: z.object({ amount: z.number().min(0).max(1_000_000), from: z.enum(["USD", "EUR"]), to: z.enum(["USD", "EUR"]) }),
    isEnabled: pending,
    execute: async (args, runContext) => {
      calls.push({ name: "convert_currency", args });
      (runContext!.context as Progress).answered = true;
      const rate = args.from === args.to ? 1 : args.from === "USD" ? 0.9 : 1 / 0.9;
      return `${args.amount} ${args.from} is ${Math.round(args.amount * rate * 100) / 100} ${args.to}.`;
    },
  });
  const answerer = new Agent<Progress>({
    name: "Answerer",
    instructions: "Answer the user's question in one sentence.",
    model,
    modelSettings: { temperature: 0, maxTokens: 48 },
  });
  const withoutHandoff = (data: HandoffInputData): HandoffInputData =>
    ({ ...data, newItems: data.newItems.filter((item) => item.type !== "handoff_call_item" && item.type !== "handoff_output_item") });
  return new Agent<Progress>({
    name: "Broker",
    instructions: "You look up stock prices and convert currencies with the tools.",
    model,
    tools: [getStockPrice, convertCurrency],
    handoffs: [handoff(answerer, { isEnabled: ({ runContext }) => runContext.context.answered === true, inputFilter: withoutHandoff })],
    // Every Broker turn must call what is offered then, one call at a time: the SDK would otherwise drop
    // tool_choice to auto after the first call.
    modelSettings: { toolChoice: "required", parallelToolCalls: false, temperature: 0, maxTokens: 64 },
    resetToolChoice: false,
  });
}

async function execution(responseId: string | undefined): Promise<Record<string, any>> {
  const id = responseId?.replace(/^(resp_|chatcmpl-)/, "");
  const response = await gateway.fetch(`/v1/executions/${id}`);
  expect(response.status).toBe(200);
  return response.json();
}

describe("the OpenAI Agents SDK's agent loop against the gateway, with SmolLM2 135M calling the tools", () => {
  const apis = [
    { api: "the Responses API", endpoint: "responses", model: () => new OpenAIResponsesModel(client, INSTRUCT) },
    { api: "Chat Completions", endpoint: "chat.completions", model: () => new OpenAIChatCompletionsModel(client, INSTRUCT) },
  ];
  for (const { api, endpoint, model } of apis) {
    it(`converts a sum by a tool and answers from its result, over ${api}`, async () => {
      const calls: Call[] = [];
      // Three turns: the call, the handoff, the answer; a fourth would fail the run (MaxTurnsExceededError).
      const result = await run(agents(model(), calls), "How many euros is 120 US dollars?", { maxTurns: 3, context: {} });

      // The model chose the conversion over the stock lookup and read the sum and currencies from the question
      // (measured: exactly these). The grammar held it to the JSON schema the SDK derived from zod, and the SDK
      // parsed the arguments with the zod schema before calling execute.
      expect(calls).toEqual([{ name: "convert_currency", args: { amount: 120, from: "USD", to: "EUR" } }]);

      // The SDK's record of the run: the call, its output, the answer, in that order (the handoff's own items are
      // what the inputFilter took out; the Answerer answering shows the handoff happened).
      expect(result.newItems.map((item) => item.type)).toEqual(["tool_call_item", "tool_call_output_item", "message_output_item"]);
      const [call, output] = result.newItems as Array<{ rawItem: Record<string, any> }>;
      expect(call!.rawItem).toMatchObject({ type: "function_call", name: "convert_currency" });
      expect(output!.rawItem).toMatchObject({ type: "function_call_result", callId: call!.rawItem["callId"], output: { type: "text", text: "120 USD is 108 EUR." } });
      expect(result.lastAgent?.name).toBe("Answerer");
      // Measured: "120 USD is 108 EUR." The figure is only in the tool's result.
      expect(typeof result.finalOutput).toBe("string");
      expect(result.finalOutput).toMatch(/\b108\b/);

      // Each turn is an execution of the gateway's, the call and the result fed back stored with them.
      expect(result.rawResponses).toHaveLength(3);
      const [first, second, last] = await Promise.all(result.rawResponses.map((response) => execution(response.responseId)));
      expect(first).toMatchObject({ endpoint, model: INSTRUCT, status: "succeeded", input: { toolChoice: "required", parallelToolCalls: false } });
      expect(first!.input.tools.map((t: { name: string }) => t.name)).toEqual(["get_stock_price", "convert_currency"]);
      expect(first!.output.tool_calls).toEqual([{ id: call!.rawItem["callId"], name: "convert_currency", arguments: { amount: 120, from: "USD", to: "EUR" } }]);
      expect(second!.input.tools.map((t: { name: string }) => t.name)).toEqual(["transfer_to_Answerer"]);
      expect(second!.output.tool_calls).toEqual([expect.objectContaining({ name: "transfer_to_Answerer", arguments: {} })]);
      expect(last!.input.messages).toContainEqual(expect.objectContaining({ role: "tool", toolCallId: call!.rawItem["callId"], content: "120 USD is 108 EUR." }));
      expect(last!.input.tools).toBeUndefined();

      // Nothing left loopback (the tracing exporter, were it on, would have connected out); the spy saw the
      // connections that were made.
      expect(connections).toContain("127.0.0.1");
      expect(connections.filter((host) => !["127.0.0.1", "::1", "localhost"].includes(host) && !host.startsWith("/"))).toEqual([]);
    });
  }
});
