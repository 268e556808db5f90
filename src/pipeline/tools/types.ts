import type { AnswerSpec } from "../structured.js";

/** A function the model may call. Its parameters are a JSON Schema: arguments are generated under it and checked against it. */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/**
 * auto: an answer or calls; required: one call or more; {name}: calls of that function only. OpenAI's "none" never
 * reaches the pipeline: the tools are then not offered to the model at all.
 */
export type ToolChoice = "auto" | "required" | { name: string };

/** Tools offered to the model: what it is shown and the grammar its output is held to. */
export interface ToolsSpec {
  kind: "tools";
  tools: ToolDefinition[];
  choice: ToolChoice;
  /** Several calls in one answer (OpenAI's parallel_tool_calls, default true). */
  parallel: boolean;
  /** The format an answer that is not a call must have (response_format); absent: free text. */
  answer?: AnswerSpec;
}

/** A call the model made, checked against its tool's schema: `index` is the tool's position in the spec. */
export interface GeneratedToolCall {
  index: number;
  arguments: unknown;
}
