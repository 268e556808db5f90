import { resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type LlamaModel, type Token } from "node-llama-cpp";
import type { ChatMessage, GenerationInput } from "../interface.js";

/**
 * The model's own chat template (tokenizer.chat_template) when the GGUF carries one: it is what the model was
 * tuned on. node-llama-cpp's "auto" swaps in a built-in wrapper it deems equivalent, and for SmolLM2 that dropped the
 * default system prompt its template adds — measured at temperature 0: "What is 7 + 5?" answered 15 instead of 12,
 * and an extraction request answered with Python code instead of the JSON. No template (or one that does not
 * parse): the built-in wrapper "auto" resolves.
 */
export function chatWrapperFor(model: LlamaModel): ChatWrapper {
  return resolveChatWrapper(model, { type: "jinjaTemplate", warningLogs: false });
}

/** The request's messages as node-llama-cpp's chat history, ending with the empty model turn to be generated. */
export function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
  history.push({ type: "model", response: [] });
  return history;
}

/**
 * The tokens a model host evaluates before it generates the first token of the answer: the rendered chat
 * history, or the completion prompt. Adapter fitting reads hidden states at exactly this position.
 */
export function promptTokens(model: LlamaModel, wrapper: ChatWrapper, input: GenerationInput): Token[] {
  if (input.kind === "completion") return model.tokenize(input.prompt);
  return wrapper.generateContextState({ chatHistory: toHistory(input.messages) }).contextText.tokenize(model.tokenizer);
}
