import type { ChatMessage, GenerationInput } from "../inference/interface.js";

/** A call the assistant made earlier in the conversation, as the caller sends it back: its arguments as JSON text. */
export interface ToolCallTurn {
  id: string;
  name: string;
  arguments: string;
}

/**
 * A chat message as a request carries it. Tool calls and tool results are rendered into plain messages before a
 * model reads them (tools/prompt.ts); `name` is stored with the request and not shown to the model.
 */
export interface ChatTurn {
  role: ChatMessage["role"] | "tool";
  content: string;
  /** OpenAI's participant name. */
  name?: string;
  /** An assistant turn's tool calls. */
  toolCalls?: ToolCallTurn[];
  /** A tool turn's answer to this call. */
  toolCallId?: string;
}

/** What a generation request brings: a chat of turns, or a completion prompt (GenerationInput is what the model runs). */
export type RequestInput = { kind: "chat"; messages: ChatTurn[] } | Extract<GenerationInput, { kind: "completion" }>;
