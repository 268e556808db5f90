import { z } from "zod";
import { AdaptationRequestSchema, type AdaptationRequest } from "../../adaptation/strategies.js";
import { TaskLabel } from "../../adaptation/task-class.js";
import { MAX_TOP_LOGPROBS } from "../../inference/interface.js";

/**
 * Request bodies of the OpenAI-compatible surface. Objects are strict: a parameter Atomic does not implement is
 * refused by name rather than silently ignored, so a client never believes it got a behaviour it did not.
 */

const TextPart = z.strictObject({ type: z.literal("text"), text: z.string() });
const Content = z.union([z.string().max(1_000_000), z.array(TextPart).min(1).max(100)]);
/** OpenAI's participant name: stored with the request (redacted), not shown to the model. */
const Name = z.string().max(64).optional();
/** A function's name, as OpenAI restricts it: it is compiled into the grammar and the caller dispatches on it. */
export const ToolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "letters, digits, '_' and '-' (max 64)");
export const CallId = z.string().min(1).max(128);

const ToolCallSchema = z.strictObject({
  id: CallId,
  type: z.literal("function"),
  function: z.strictObject({ name: ToolName, arguments: z.string().max(1_000_000) }),
});

export const ChatMessageSchema = z.discriminatedUnion("role", [
  z.strictObject({ role: z.enum(["system", "developer", "user"]), content: Content, name: Name }),
  z.strictObject({
    role: z.literal("assistant"),
    // null where the turn was only calls, as OpenAI's answer has it and clients send it back.
    content: Content.nullable().optional(),
    name: Name,
    tool_calls: z.array(ToolCallSchema).min(1).max(128).nullable().optional(),
    // Fields of an answer's message that clients send back as they got it (the Python client's model_dump() writes
    // them all); Atomic never fills them, so only their empty values are known.
    refusal: z.null().optional(),
    audio: z.null().optional(),
    function_call: z.null().optional(),
    annotations: z.array(z.never()).max(0).nullable().optional(),
  }).refine((m) => m.content != null || m.tool_calls != null, { message: "an assistant message needs content or tool_calls", path: ["content"] }),
  z.strictObject({ role: z.literal("tool"), content: Content, tool_call_id: CallId }),
]);
export type ChatMessageParam = z.infer<typeof ChatMessageSchema>;

const ToolSchema = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: ToolName,
    description: z.string().max(100_000).optional(),
    // Absent: a function without parameters, as OpenAI reads it.
    parameters: z.record(z.string(), z.unknown()).optional(),
    // Arguments always satisfy the schema here, strict or not.
    strict: z.boolean().nullable().optional(),
  }),
});

const ToolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: ToolName }) }),
]);

/** Answers per request (`n`): each is a generation of its own, so the bound is a bound on work. */
const MAX_CHOICES = 8;

const Stop = z.union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(4)]).nullable().optional();

export const JsonSchemaFormat = z.strictObject({
  type: z.literal("json_schema"),
  json_schema: z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "letters, digits, '_' and '-' (max 64)"),
    description: z.string().max(2000).optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullable().optional(),
  }),
});

export const ResponseFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  JsonSchemaFormat,
]);

/**
 * Atomic's extensions for inference-time adaptation (docs/architecture.md, Inference-time adaptation), on every
 * generation route: `atomic_task` names the kind of work (the task class adaptation learns under),
 * `atomic_adaptation` turns adaptation off for the request or names the strategies to apply.
 */
export const AdaptationFields = {
  atomic_task: TaskLabel.optional(),
  atomic_adaptation: AdaptationRequestSchema.optional(),
};

/**
 * Sampling beyond OpenAI's: llama.cpp's top-k, min-p and repetition penalty, under the names vLLM and Hugging Face
 * clients send. An explicit value always wins over what adaptation learned.
 */
export const ExtraSampling = {
  top_k: z.number().int().min(0).max(1000).nullable().optional(),
  min_p: z.number().min(0).max(1).nullable().optional(),
  repetition_penalty: z.number().gt(0).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
};

const Sampling = {
  ...ExtraSampling,
  ...AdaptationFields,
  model: z.string().min(1).max(128).optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).nullable().optional(),
  stop: Stop,
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: z.number().int().min(1).max(MAX_CHOICES).nullable().optional(),
  // The end user, kept (redacted) in each execution's parameters.
  user: z.string().max(256).optional(),
};

export const ChatCompletionRequestSchema = z.strictObject({
  ...Sampling,
  messages: z.array(ChatMessageSchema).min(1).max(1000),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  response_format: ResponseFormat.optional(),
  tools: z.array(ToolSchema).min(1).max(128).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(MAX_TOP_LOGPROBS).nullable().optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z.strictObject({
  ...Sampling,
  prompt: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).length(1)]),
  echo: z.literal(false).optional(),
  // The legacy endpoint's: how many alternatives per token (OpenAI's bound); the chosen token's always comes too.
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

export const EmbeddingRequestSchema = z.strictObject({
  model: z.string().min(1).max(128).optional(),
  input: z.union([z.string().min(1).max(1_000_000), z.array(z.string().min(1).max(1_000_000)).min(1).max(256)]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().max(256).optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

export function stopList(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  return typeof stop === "string" ? [stop] : stop;
}

/** The sampling and adaptation fields of a request body as GenerationOptions name them. */
export function adaptationOptions(body: {
  top_k?: number | null; min_p?: number | null; repetition_penalty?: number | null; presence_penalty?: number | null; frequency_penalty?: number | null;
  atomic_task?: string; atomic_adaptation?: AdaptationRequest;
}) {
  return {
    ...(body.top_k == null ? {} : { topK: body.top_k }),
    ...(body.min_p == null ? {} : { minP: body.min_p }),
    ...(body.repetition_penalty == null ? {} : { repeatPenalty: body.repetition_penalty }),
    ...(body.presence_penalty == null ? {} : { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty == null ? {} : { frequencyPenalty: body.frequency_penalty }),
    ...(body.atomic_task === undefined ? {} : { task: body.atomic_task }),
    ...(body.atomic_adaptation === undefined ? {} : { adaptation: body.atomic_adaptation }),
  };
}
