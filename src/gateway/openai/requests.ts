import { z } from "zod";

/**
 * Request bodies of the OpenAI-compatible surface. Objects are strict: a parameter Atomic does not implement is
 * refused by name rather than silently ignored, so a client never believes it got a behaviour it did not.
 */

const TextPart = z.strictObject({ type: z.literal("text"), text: z.string() });

export const ChatMessageSchema = z.strictObject({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string().max(1_000_000), z.array(TextPart).min(1).max(100)]),
  name: z.string().max(64).optional(),
});

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

const Sampling = {
  model: z.string().min(1).max(128).optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).nullable().optional(),
  stop: Stop,
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: z.literal(1).nullable().optional(),
  user: z.string().max(256).optional(),
};

export const ChatCompletionRequestSchema = z.strictObject({
  ...Sampling,
  messages: z.array(ChatMessageSchema).min(1).max(1000),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  response_format: ResponseFormat.optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z.strictObject({
  ...Sampling,
  prompt: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).length(1)]),
  echo: z.literal(false).optional(),
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
