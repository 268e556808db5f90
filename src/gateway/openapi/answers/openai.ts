import { z } from "zod";
import { CAPABILITIES } from "../../../models/manifest.js";
import { AUTO_MODEL } from "../../../pipeline/routing.js";
import { answerSchema } from "../registry.js";
import { Count, ErrorAnswer, Sha256Hex, Usage } from "./common.js";

/** The answers of the OpenAI-compatible routes, in OpenAI's shapes, with Atomic's own fields under `atomic`. */

/** ModelState in inference/interface.ts. */
const ModelState = z.enum(["loading", "ready", "failed", "stopped"]);
const Capability = z.enum(CAPABILITIES);
const Unix = z.int().min(0).describe("seconds since the epoch");

const PinnedModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: Unix,
  owned_by: z.literal("atomic"),
  atomic: z.object({
    state: ModelState,
    reason_code: z.string().optional().describe("why it is not ready, e.g. model_digest_mismatch"),
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

export const ChatCompletion = answerSchema("ChatCompletion", z.object({
  id: z.string().startsWith("chatcmpl-"),
  object: z.literal("chat.completion"),
  created: Unix,
  model: z.string(),
  choices: z.array(z.object({
    index: Count,
    message: AssistantMessage,
    logprobs: z.null(),
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
    choices: z.array(z.object({ index: Count, delta: ChunkDelta, logprobs: z.null(), finish_reason: z.enum(["stop", "length", "tool_calls"]).nullable() })).length(1),
  }),
  z.object({ ...chunkHeader, choices: z.array(z.never()).describe("empty: the usage chunk (stream_options.include_usage)"), usage: Usage }),
  ErrorAnswer,
]));

const FinishReason = z.enum(["stop", "length"]);

export const TextCompletion = answerSchema("TextCompletion", z.object({
  id: z.string().startsWith("cmpl-"),
  object: z.literal("text_completion"),
  created: Unix,
  model: z.string(),
  choices: z.array(z.object({ index: Count, text: z.string(), logprobs: z.null(), finish_reason: FinishReason })).min(1),
  usage: Usage,
}));

const completionChunkHeader = { id: z.string().startsWith("cmpl-"), object: z.literal("text_completion"), created: Unix, model: z.string() };

/** One `data:` event of a streamed completion; the stream ends with `data: [DONE]`. */
export const TextCompletionChunk = answerSchema("TextCompletionChunk", z.union([
  z.object({ ...completionChunkHeader, choices: z.array(z.object({ index: Count, text: z.string(), logprobs: z.null(), finish_reason: FinishReason.nullable() })).length(1) }),
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
