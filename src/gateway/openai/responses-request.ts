import { z } from "zod";
import { MAX_TOP_LOGPROBS } from "../../inference/interface.js";
import { RESPONSES_LOGPROBS } from "./logprobs.js";
import { AdaptationFields, CallId, ToolName } from "./requests.js";

/**
 * The body of POST /v1/responses: OpenAI's Responses API for text, `json_schema` / `json_object` output and function
 * tools, over the same generation as chat. Objects are strict, as everywhere on the OpenAI surface: built-in tools,
 * images and files, reasoning, conversations and the other parameters Atomic does not implement are refused by name.
 */

const Text = z.string().max(1_000_000);
const InputText = z.strictObject({ type: z.literal("input_text", { error: "only text is served: parts of type input_text" }), text: Text });
const Parts = <T extends z.ZodType>(part: T) => z.array(part).min(1).max(100);

/** A text part of an earlier answer, as a client sends Atomic's own output back. */
const OutputText = z.strictObject({
  type: z.literal("output_text"),
  text: Text,
  // Atomic's answers carry no annotations; only their empty value is known.
  annotations: z.array(z.never()).max(0).optional(),
  // What an earlier answer's tokens scored (include: message.output_text.logprobs): a figure of that answer, which
  // the model is not shown.
  logprobs: z.array(z.unknown()).max(100_000).optional(),
  // The client's own parse of `text` (the SDKs' parse() and stream helpers add it): derived from the text.
  parsed: z.unknown().optional(),
});

/** What an item says of itself when a client sends an answer's items back: descriptive, never an instruction. */
const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const ItemId = z.string().min(1).max(128);

const MessageItem = z.discriminatedUnion("role", [
  z.strictObject({
    type: z.literal("message").optional(),
    role: z.enum(["user", "system", "developer"]),
    content: z.union([Text, Parts(InputText)]),
    status: ItemStatus.optional(),
  }),
  z.strictObject({
    type: z.literal("message").optional(),
    role: z.literal("assistant"),
    content: z.union([Text, Parts(z.discriminatedUnion("type", [OutputText, InputText]))]),
    id: ItemId.optional(),
    status: ItemStatus.optional(),
  }),
]);

const FunctionCallItem = z.strictObject({
  type: z.literal("function_call"),
  call_id: CallId,
  name: ToolName,
  arguments: z.string().max(1_000_000),
  id: ItemId.optional(),
  status: ItemStatus.optional(),
  // The client's own parse of `arguments` (added by the SDKs for strict tools): derived from them.
  parsed_arguments: z.unknown().optional(),
});

const FunctionCallOutputItem = z.strictObject({
  type: z.literal("function_call_output"),
  call_id: CallId,
  output: z.union([Text, Parts(InputText)]),
  id: ItemId.nullable().optional(),
  status: ItemStatus.nullable().optional(),
});

export const ResponseInputItem = z.discriminatedUnion("type", [MessageItem, FunctionCallItem, FunctionCallOutputItem]);
export type ResponseInputItem = z.infer<typeof ResponseInputItem>;

const FunctionTool = z.strictObject({
  type: z.literal("function", { error: "only function tools are served: Atomic runs offline, with no built-in tools" }),
  name: ToolName,
  description: z.string().max(100_000).nullable().optional(),
  // Absent or null: a function without parameters.
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  // Arguments always satisfy the schema here, strict or not.
  strict: z.boolean().nullable().optional(),
});

const TextFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    // The rules OpenAI sets for a schema's name are those of a function's.
    name: ToolName,
    schema: z.record(z.string(), z.unknown()),
    description: z.string().max(2000).optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

const MAX_METADATA_KEYS = 16;

export const ResponsesRequestSchema = z.strictObject({
  ...AdaptationFields,
  model: z.string().min(1).max(128).optional(),
  input: z.union([Text, z.array(ResponseInputItem).min(1).max(1000)]),
  /** A system turn before the input. */
  instructions: Text.nullable().optional(),
  text: z.strictObject({ format: TextFormat.optional() }).optional(),
  // Empty is no tools, as some agent frameworks always send the list.
  tools: z.array(FunctionTool).max(128).optional(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.strictObject({ type: z.literal("function"), name: ToolName })]).optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional()
    .describe("Atomic stores every execution: `false` is refused (400 `store_unsupported`)."),
  // The OpenAI Agents SDK sends the list on every request, empty unless asked otherwise: empty asks for nothing.
  include: z.array(z.string().max(128).refine((entry) => entry === RESPONSES_LOGPROBS, `the one extra output Atomic has is ${RESPONSES_LOGPROBS} (no reasoning, no built-in tools' results)`)).max(1).nullable().optional()
    .describe(`Extra output data: Atomic has one, \`${RESPONSES_LOGPROBS}\` (each token's log-probability); an empty list or null asks for none; any other entry is refused (400 \`invalid_parameter\`).`),
  top_logprobs: z.number().int().min(0).max(MAX_TOP_LOGPROBS).nullable().optional(),
  previous_response_id: z.string().max(256).nullable().optional()
    .describe("Continues that response of the caller's tenant: its turns and answer as its record holds them (PII as placeholders; its `instructions` not carried over), then `input`, which must answer its function calls. Handled at least at its data classification. 400 `previous_response_not_found`, `previous_response_erased`, `previous_response_failed` or `previous_response_unsupported` (recorded before responses could be continued)."),
  // Kept (redacted) with the execution's input, and echoed in the response.
  metadata: z.record(z.string().max(64), z.string().max(512))
    .refine((metadata) => Object.keys(metadata).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`)
    .nullable().optional(),
  // The end user, kept (redacted) in the execution's parameters.
  user: z.string().max(256).optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
