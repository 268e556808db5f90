import { z } from "zod";
import { MODEL_STATES } from "../../../inference/interface.js";
import { CAPABILITIES } from "../../../models/manifest.js";
import { AUTO_MODEL } from "../../../pipeline/routing.js";
import { answerSchema } from "../registry.js";
import { Count, ErrorAnswer, Sha256Hex, Usage } from "./common.js";

/** The answers of the OpenAI-compatible routes, in OpenAI's shapes, with Atomic's own fields under `atomic`. */

const ModelState = z.enum(MODEL_STATES);
const Capability = z.enum(CAPABILITIES);
const Unix = z.int().min(0).describe("seconds since the epoch");

const PinnedModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: Unix,
  owned_by: z.literal("atomic"),
  atomic: z.object({
    state: ModelState,
    reason_code: z.string().optional().describe("why it is not ready, e.g. model_digest_mismatch; with state ready, model_file_changed: its file no longer holds the pinned bytes, and the verified weights loaded before serve on until the next load refuses the file"),
    reason: z.string().optional(),
    capabilities: z.array(Capability),
    sha256: Sha256Hex.describe("of the GGUF file, verified before it is loaded"),
    size_bytes: Count,
    context_length: Count,
    cost: z.object({ unit: z.string(), per_1k_prompt_tokens: z.number(), per_1k_completion_tokens: z.number() }),
    test_model: z.boolean(),
    description: z.string().optional(),
  }),
});

const AutoModel = z.object({
  id: z.literal(AUTO_MODEL),
  object: z.literal("model"),
  created: Unix,
  owned_by: z.literal("atomic"),
  atomic: z.object({
    routing: z.literal("bidding"),
    capabilities: z.array(Capability),
    candidates: z.array(z.string()).describe("the models bidding chooses among"),
  }),
}).describe("not a file but the bidding among the models that can do the work");

export const Model = answerSchema("Model", z.union([PinnedModel, AutoModel]));
export const ModelList = answerSchema("ModelList", z.object({ object: z.literal("list"), data: z.array(Model) }));

const ToolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string().describe("JSON text, valid against the tool's parameters") }),
});

const AssistantMessage = z.union([
  z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
  z.object({ role: z.literal("assistant"), content: z.null(), tool_calls: z.array(ToolCall).min(1), refusal: z.null() }),
]);

const TokenBytes = z.array(z.int().min(0).max(255)).describe("the token's text as UTF-8 bytes");
const TokenLogprob = z.object({ token: z.string(), logprob: z.number().max(0), bytes: TokenBytes });
const ContentLogprob = TokenLogprob.extend({
  top_logprobs: z.array(TokenLogprob).max(20).describe("the most probable tokens at this position, most probable first"),
});
const ChatLogprobs = z.object({
  content: z.array(ContentLogprob),
  refusal: z.null(),
}).nullable().describe("with logprobs: true, each generated token's natural log-probability under the model (before sampling and grammar); streamed, on the last chunk");

export const ChatCompletion = answerSchema("ChatCompletion", z.object({
  id: z.string().startsWith("chatcmpl-"),
  object: z.literal("chat.completion"),
  created: Unix,
  model: z.string(),
  choices: z.array(z.object({
    index: Count,
    message: AssistantMessage,
    logprobs: ChatLogprobs,
    finish_reason: z.enum(["stop", "length", "tool_calls"]),
  })).min(1),
  usage: Usage,
  system_fingerprint: z.null(),
}));

const ChunkDelta = z.object({
  role: z.literal("assistant").optional(),
  content: z.string().nullable().optional(),
  refusal: z.null().optional(),
  tool_calls: z.array(z.object({
    index: Count,
    id: z.string().optional(),
    type: z.literal("function").optional(),
    function: z.object({ name: z.string().optional(), arguments: z.string() }),
  })).optional(),
});

const chunkHeader = {
  id: z.string().startsWith("chatcmpl-"),
  object: z.literal("chat.completion.chunk"),
  created: Unix,
  model: z.string(),
  system_fingerprint: z.null(),
};

/** One `data:` event of a streamed chat completion; the stream ends with `data: [DONE]`. */
export const ChatCompletionChunk = answerSchema("ChatCompletionChunk", z.union([
  z.object({
    ...chunkHeader,
    choices: z.array(z.object({ index: Count, delta: ChunkDelta, logprobs: ChatLogprobs, finish_reason: z.enum(["stop", "length", "tool_calls"]).nullable() })).length(1),
  }),
  z.object({ ...chunkHeader, choices: z.array(z.never()).describe("empty: the usage chunk (stream_options.include_usage)"), usage: Usage }),
  ErrorAnswer,
]));

const FinishReason = z.enum(["stop", "length"]);

const CompletionLogprobs = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().max(0)),
  top_logprobs: z.array(z.record(z.string(), z.number().max(0))).describe("per token: the most probable tokens and the chosen one"),
  text_offset: z.array(Count).describe("where each token starts in the answer's text"),
}).nullable().describe("with logprobs: N, each generated token's natural log-probability under the model; streamed, on the last chunk");

export const TextCompletion = answerSchema("TextCompletion", z.object({
  id: z.string().startsWith("cmpl-"),
  object: z.literal("text_completion"),
  created: Unix,
  model: z.string(),
  choices: z.array(z.object({ index: Count, text: z.string(), logprobs: CompletionLogprobs, finish_reason: FinishReason })).min(1),
  usage: Usage,
}));

const completionChunkHeader = { id: z.string().startsWith("cmpl-"), object: z.literal("text_completion"), created: Unix, model: z.string() };

/** One `data:` event of a streamed completion; the stream ends with `data: [DONE]`. */
export const TextCompletionChunk = answerSchema("TextCompletionChunk", z.union([
  z.object({ ...completionChunkHeader, choices: z.array(z.object({ index: Count, text: z.string(), logprobs: CompletionLogprobs, finish_reason: FinishReason.nullable() })).length(1) }),
  z.object({ ...completionChunkHeader, choices: z.array(z.never()), usage: Usage }),
  ErrorAnswer,
]));

export const EmbeddingList = answerSchema("EmbeddingList", z.object({
  object: z.literal("list"),
  data: z.array(z.object({
    object: z.literal("embedding"),
    index: Count,
    embedding: z.union([z.array(z.number()), z.base64().describe("encoding_format base64: the float32 little-endian bytes")]),
  })),
  model: z.string(),
  usage: z.object({ prompt_tokens: Count, total_tokens: Count }),
}));

/** POST /v1/responses: OpenAI's Response object (responses-answer.ts), whole or as the events of its stream. */

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const OutputText = z.object({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.never()),
  logprobs: z.array(ContentLogprob).describe("the tokens' log-probabilities with include: [\"message.output_text.logprobs\"] (a stream's done events only); else empty"),
});
const MessageItem = z.object({
  id: z.string().startsWith("msg_"),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: ItemStatus,
  content: z.array(OutputText).max(1).describe("empty only while the stream has not opened its text part"),
});
const FunctionCallItem = z.object({
  id: z.string().startsWith("fc_"),
  type: z.literal("function_call"),
  status: ItemStatus,
  call_id: z.string().startsWith("call_").describe("what a function_call_output answers it with"),
  name: z.string(),
  arguments: z.string().describe("JSON text, valid against the tool's parameters; empty while the call is opened in a stream"),
});
const OutputItem = z.discriminatedUnion("type", [MessageItem, FunctionCallItem]);

const ResponseUsage = z.object({
  input_tokens: Count,
  input_tokens_details: z.object({ cached_tokens: z.literal(0), cache_write_tokens: z.literal(0) }),
  output_tokens: Count,
  output_tokens_details: z.object({ reasoning_tokens: z.literal(0) }),
  total_tokens: Count,
});

const TextFormat = z.union([
  z.object({ type: z.enum(["text", "json_object"]) }),
  z.object({ type: z.literal("json_schema"), name: z.string(), schema: z.record(z.string(), z.unknown()), description: z.string().optional(), strict: z.boolean().nullable().optional() }),
]);

export const ResponseObject = answerSchema("Response", z.object({
  id: z.string().startsWith("resp_").describe("`resp_` and the execution id"),
  object: z.literal("response"),
  created_at: Unix,
  status: z.enum(["in_progress", "completed", "incomplete", "failed"]),
  completed_at: Unix.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.object({ reason: z.literal("max_output_tokens") }).nullable(),
  instructions: z.string().nullable(),
  max_output_tokens: Count.nullable(),
  model: z.string(),
  output: z.array(OutputItem).describe("one message, or the function calls the model made"),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable().describe("the response this one continues"),
  store: z.literal(true).describe("every execution is stored"),
  temperature: z.number().nullable(),
  text: z.object({ format: TextFormat }),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), name: z.string() })]),
  tools: z.array(z.object({ type: z.literal("function"), name: z.string(), description: z.string().nullable(), parameters: z.record(z.string(), z.unknown()).nullable(), strict: z.boolean() })),
  top_p: z.number().nullable(),
  metadata: z.record(z.string(), z.string()),
  usage: ResponseUsage.nullable().describe("null until the response has ended"),
  user: z.string().optional(),
}));

const sequenced = { sequence_number: Count.describe("the event's position in the stream, from 0") };
const lifecycle = (type: string) => z.object({ type: z.literal(type), ...sequenced, response: ResponseObject });
const inItem = { output_index: Count, item_id: z.string() };
const inPart = { ...inItem, content_index: z.literal(0) };

/** One event of a streamed response (`event:` names its type too); the stream ends with its last event, without `[DONE]`. */
export const ResponseStreamEvent = answerSchema("ResponseStreamEvent", z.discriminatedUnion("type", [
  lifecycle("response.created"),
  lifecycle("response.in_progress"),
  z.object({ type: z.literal("response.output_item.added"), ...sequenced, output_index: Count, item: OutputItem }),
  z.object({ type: z.literal("response.content_part.added"), ...sequenced, ...inPart, part: OutputText }),
  z.object({ type: z.literal("response.output_text.delta"), ...sequenced, ...inPart, delta: z.string(), logprobs: z.array(z.never()).describe("empty: tokens are scored once the answer is complete (output_text.done)") }),
  z.object({ type: z.literal("response.output_text.done"), ...sequenced, ...inPart, text: z.string(), logprobs: z.array(ContentLogprob) }),
  z.object({ type: z.literal("response.content_part.done"), ...sequenced, ...inPart, part: OutputText }),
  z.object({ type: z.literal("response.function_call_arguments.delta"), ...sequenced, ...inItem, delta: z.string() }),
  z.object({ type: z.literal("response.function_call_arguments.done"), ...sequenced, ...inItem, name: z.string(), arguments: z.string() }),
  z.object({ type: z.literal("response.output_item.done"), ...sequenced, output_index: Count, item: OutputItem }),
  lifecycle("response.completed"),
  lifecycle("response.incomplete").describe("the answer was cut at max_output_tokens"),
  z.object({ type: z.literal("error"), ...sequenced, code: z.string(), message: z.string(), param: z.string().nullable() })
    .describe("a failure once the stream has begun (Atomic's stable code); response.failed follows"),
  lifecycle("response.failed"),
]));
