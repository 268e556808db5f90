import type { ChatMessage } from "../inference/interface.js";

/** A task as a chat: the instructions (with the schema to answer in, if any) as system, the work as user. */
export function taskMessages(instructions: string, work: string, schema?: Record<string, unknown>): ChatMessage[] {
  return [{ role: "system", content: schema ? `${instructions}\n${answerIn(schema)}` : instructions }, { role: "user", content: work }];
}

/**
 * The chat with the schema its answer must satisfy shown in its system message. Shown as the model is given it:
 * with placeholders where the request's PII is redacted, so the prompt and the grammar agree.
 */
export function withSchemaShown(messages: readonly ChatMessage[], schema: Record<string, unknown>): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first?.role === "system") return [{ ...first, content: `${first.content}\n${answerIn(schema)}` }, ...rest];
  return [{ role: "system", content: answerIn(schema) }, ...messages];
}

function answerIn(schema: Record<string, unknown>): string {
  return `Answer only with JSON that satisfies this JSON Schema:\n${JSON.stringify(schema)}`;
}
