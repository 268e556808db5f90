import type { GenerationOutcome } from "../../pipeline/generate.js";
import type { ToolCallTurn } from "../../pipeline/request-input.js";
import { UUID_PATTERN, uuidv7Time } from "../../util/uuidv7.js";
import type { ApiError } from "../errors.js";
import { contentLogprobs } from "./logprobs.js";
import type { ResponsesRequest } from "./responses-request.js";

/** The answer of POST /v1/responses in OpenAI's Response shape, whole or as its event stream. */

/** A response's id is its execution's, after this. */
export const RESPONSE_ID_PREFIX = "resp_";

/**
 * The execution id a response id names (`resp_` and the execution's UUID), or null when it names none: such an id is
 * not found, as one that never existed.
 */
export function responseExecutionId(id: string): string | null {
  const executionId = id.startsWith(RESPONSE_ID_PREFIX) ? id.slice(RESPONSE_ID_PREFIX.length) : "";
  return UUID_PATTERN.test(executionId) ? executionId : null;
}

/**
 * A response's `created_at` (seconds since the epoch): its execution id's time, so that the answer to POST and the
 * record read back by GET give the same second.
 */
export function createdAtOf(executionId: string): number {
  return Math.floor(uuidv7Time(executionId) / 1000);
}

/** What every form of one response shares: its execution, when it was asked for, and what was asked. */
export interface ResponseHead {
  executionId: string;
  /** Seconds since the epoch. */
  createdAt: number;
  echo: ResponseEcho;
}

/**
 * The request's settings as a Response echoes them (defaults filled in), kept with the execution's input so that
 * GET /v1/responses/:id answers as POST did.
 */
export type ResponseEcho = ReturnType<typeof echoOf>;

/** `store` is always true (every execution is stored: `store: false` is refused), so it is not kept. */
export function echoOf(body: ResponsesRequest) {
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: "text" as const } },
    tool_choice: body.tool_choice ?? "auto",
    // Arguments always satisfy the parameters here: a function is strict unless the caller set strict to false.
    tools: (body.tools ?? []).map((tool) => ({ type: "function" as const, name: tool.name, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? true })),
    top_p: body.top_p ?? null,
    metadata: body.metadata ?? {},
    ...(body.user === undefined ? {} : { user: body.user }),
  };
}

/** An output item's status; a response may also have failed. */
type ItemStatus = "in_progress" | "completed" | "incomplete";
type Status = ItemStatus | "failed";

interface ResponseState {
  model: string;
  status: Status;
  output: OutputItem[];
  usage: Pick<GenerationOutcome, "promptTokens" | "completionTokens"> | null;
  error?: { code: string; message: string };
  /** Seconds since the epoch; now, where absent. */
  completedAt?: number;
}

/**
 * The Response object: its state, and the request's settings echoed as OpenAI echoes them. `output_text` is not
 * sent: the SDKs compute it from `output`, as they do for OpenAI's answers.
 */
function responseObject(head: ResponseHead, state: ResponseState) {
  const { user, ...echo } = head.echo;
  return {
    id: `${RESPONSE_ID_PREFIX}${head.executionId}`,
    object: "response" as const,
    created_at: head.createdAt,
    status: state.status,
    completed_at: state.status === "completed" ? state.completedAt ?? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: state.status === "incomplete" ? { reason: "max_output_tokens" as const } : null,
    model: state.model,
    output: state.output,
    store: true,
    ...echo,
    usage: state.usage === null ? null : usageOf(state.usage),
    ...(user === undefined ? {} : { user }),
  };
}

/** Atomic sets no tokens apart as cached or spent on reasoning: those counts are 0. */
function usageOf(counts: Pick<GenerationOutcome, "promptTokens" | "completionTokens">) {
  return {
    input_tokens: counts.promptTokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: counts.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: counts.promptTokens + counts.completionTokens,
  };
}

/** What a Response is made of: a generation's outcome, or one read back from its record (storedResponse). */
type Answer = Pick<GenerationOutcome, "text" | "toolCalls" | "finishReason" | "promptTokens" | "completionTokens" | "logprobs"> & { model: { id: string } };

/** An answer cut at max_output_tokens is incomplete; calls are only ever answered whole. */
function statusOf(outcome: Answer): ItemStatus {
  return !outcome.toolCalls && outcome.finishReason === "length" ? "incomplete" : "completed";
}

/** One message per response: its id follows from the execution's. */
const messageId = (head: ResponseHead) => `msg_${head.executionId.replaceAll("-", "")}`;

/**
 * A text part; `logprobs` are its tokens' where the request included them (message.output_text.logprobs), else
 * empty. They are scored once the answer is complete: a stream's deltas carry none, its done events all.
 */
const outputText = (text: string, logprobs: ReturnType<typeof contentLogprobs> = []) => ({ type: "output_text" as const, text, annotations: [] as never[], logprobs });
const logprobsOf = (outcome: Answer) => (outcome.logprobs === undefined ? [] : contentLogprobs(outcome.logprobs));

function messageItem(id: string, status: ItemStatus, content: Array<ReturnType<typeof outputText>>) {
  return { id, type: "message" as const, role: "assistant" as const, status, content };
}

type OutputItem = ReturnType<typeof messageItem> | ReturnType<typeof functionCallItem>;

function functionCallItem(call: ToolCallTurn, status: ItemStatus, args: string) {
  // The item's id follows from the call's, which is unique ("call_" and 24 letters and digits).
  return { id: `fc_${call.id.slice("call_".length)}`, type: "function_call" as const, status, call_id: call.id, name: call.name, arguments: args };
}

/**
 * The answer whole: its text as one message, or each call as a function_call item (an answer is one or the other).
 * `completedAt` (seconds since the epoch) where it was recorded earlier; now, where absent.
 */
export function finishedResponse(head: ResponseHead, outcome: Answer, completedAt?: number) {
  const status = statusOf(outcome);
  const output = outcome.toolCalls
    ? outcome.toolCalls.map((call) => functionCallItem(call, status, call.arguments))
    : [messageItem(messageId(head), status, [outputText(outcome.text, logprobsOf(outcome))])];
  return responseObject(head, { model: outcome.model.id, status, output, usage: outcome, ...(completedAt === undefined ? {} : { completedAt }) });
}

/** A response that failed, as read back from its record: no output, its error's code. */
export function failedResponse(head: ResponseHead, model: string, usage: ResponseState["usage"], code: string) {
  return responseObject(head, { model, status: "failed", output: [], usage, error: { code, message: `the response failed: ${code}` } });
}

/**
 * The Responses event stream of one generation, in OpenAI's order: response.created and response.in_progress; then
 * the message (output_item.added, content_part.added, output_text.delta per chunk, output_text.done,
 * content_part.done, output_item.done) or, for calls, each call (output_item.added, function_call_arguments.delta
 * and .done, output_item.done; calls are sent whole once checked); then response.completed, or response.incomplete
 * for an answer cut at max_output_tokens. A failure once streaming has begun is an `error` event and then
 * response.failed. Events are numbered (sequence_number) as they are made, which is the order they are sent in.
 */
export class ResponseEvents {
  private sequence = 0;
  /** The message's text so far, for the failed response's partial message. */
  private text: string | null = null;

  constructor(private readonly head: ResponseHead, private readonly model: () => string) {}

  /** The opening events; the message opens here unless the answer is calls (known then: calls are not streamed as text). */
  opening(calls: boolean): unknown[] {
    const started = this.response({ status: "in_progress", output: [], usage: null });
    const events = [this.event("response.created", { response: started }), this.event("response.in_progress", { response: started })];
    if (calls) return events;
    this.text = "";
    return [
      ...events,
      this.event("response.output_item.added", { output_index: 0, item: messageItem(messageId(this.head), "in_progress", []) }),
      this.event("response.content_part.added", { item_id: messageId(this.head), output_index: 0, content_index: 0, part: outputText("") }),
    ];
  }

  delta(chunk: string): unknown {
    this.text += chunk;
    return this.event("response.output_text.delta", { item_id: messageId(this.head), output_index: 0, content_index: 0, delta: chunk, logprobs: [] });
  }

  closing(outcome: GenerationOutcome): unknown[] {
    const status = statusOf(outcome);
    const finished = (output: OutputItem[]) =>
      this.event(status === "completed" ? "response.completed" : "response.incomplete", { response: this.response({ status, output, usage: outcome }) });
    if (outcome.toolCalls) {
      const items = outcome.toolCalls.map((call) => functionCallItem(call, status, call.arguments));
      return [
        ...outcome.toolCalls.flatMap((call, index) => [
          this.event("response.output_item.added", { output_index: index, item: functionCallItem(call, "in_progress", "") }),
          this.event("response.function_call_arguments.delta", { item_id: items[index]!.id, output_index: index, delta: call.arguments }),
          this.event("response.function_call_arguments.done", { item_id: items[index]!.id, output_index: index, name: call.name, arguments: call.arguments }),
          this.event("response.output_item.done", { output_index: index, item: items[index] }),
        ]),
        finished(items),
      ];
    }
    const id = messageId(this.head);
    const part = outputText(outcome.text, logprobsOf(outcome));
    const item = messageItem(id, status, [part]);
    return [
      this.event("response.output_text.done", { item_id: id, output_index: 0, content_index: 0, text: outcome.text, logprobs: part.logprobs }),
      this.event("response.content_part.done", { item_id: id, output_index: 0, content_index: 0, part }),
      this.event("response.output_item.done", { output_index: 0, item }),
      finished([item]),
    ];
  }

  failure(error: ApiError): unknown[] {
    const output = this.text === null ? [] : [messageItem(messageId(this.head), "incomplete", [outputText(this.text)])];
    return [
      this.event("error", { code: error.code, message: error.message, param: error.param }),
      this.event("response.failed", { response: this.response({ status: "failed", output, usage: null, error: { code: error.code, message: error.message } }) }),
    ];
  }

  private response(state: Omit<ResponseState, "model">) {
    return responseObject(this.head, { ...state, model: this.model() });
  }

  private event(type: string, fields: Record<string, unknown>): Record<string, unknown> {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}
