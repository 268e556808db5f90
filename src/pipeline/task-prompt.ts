import type { ChatMessage } from "../inference/interface.js";
import { isPlainObject } from "../structured/json-values.js";

/** The instructions a task that gives none runs with (POST /v1/tasks stores them as null). */
export const DEFAULT_TASK_INSTRUCTIONS = "Complete the task described by the user.";

/** A task's input as the model reads it: text as it is, an object as its JSON text. */
export function taskWork(input: string | Record<string, unknown>): string {
  return typeof input === "string" ? input : JSON.stringify(input);
}

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

/**
 * An asynchronous task's microtask execution as stored (src/orchestration/activities/inference.ts: `{task,
 * microtask, attempt, input}`): the input it ran as, a chat or completion with its predecessors' outputs in place
 * and the schema shown in it. Undefined for any other stored input (a synchronous task's has `instructions`).
 */
export function storedMicrotaskInput(stored: unknown): unknown {
  if (!isPlainObject(stored) || !("task" in stored) || !("microtask" in stored) || "instructions" in stored) return undefined;
  return stored.input;
}

/** How a synchronous task's execution was generated, besides its stored input (what a fit reads with it). */
export interface StoredTaskContext {
  /** The answer was generated under a JSON schema (the execution's `parameters.grammar` is "json_schema"). */
  structured: boolean;
  /** The registry's document for the execution's schema reference, where it has one and the registry holds it. */
  registeredSchema?: Record<string, unknown> | null;
}

/**
 * A synchronous task's stored input (POST /v1/tasks: `{input, instructions, schema?}`, with its PII as placeholders)
 * back as the chat the model read: the same instructions (the default where none were given), the same work, and
 * the schema as it was shown — `schema` where the stored input keeps it (an inline schema, or a registered one
 * that redaction changed before the model saw it), else the registry's document the execution names (versions never
 * change). Before the model, the pipeline adds only what adaptation planned (exemplars), which a fit leaves out as
 * it does for chat. Null where the prompt cannot be rebuilt: not a task's stored input, or a structured answer whose
 * schema is not known (an inline schema recorded before the stored input kept it, a registry entry gone).
 */
export function storedTaskMessages(stored: unknown, context: StoredTaskContext): ChatMessage[] | null {
  if (!isPlainObject(stored) || !("input" in stored) || !("instructions" in stored)) return null;
  const { input, instructions } = stored;
  if (typeof input !== "string" && !isPlainObject(input)) return null;
  if (instructions !== null && typeof instructions !== "string") return null;
  let schema: Record<string, unknown> | undefined;
  if (context.structured) {
    const shown = isPlainObject(stored.schema) ? stored.schema : context.registeredSchema;
    if (!isPlainObject(shown)) return null;
    schema = shown;
  }
  return taskMessages(instructions ?? DEFAULT_TASK_INSTRUCTIONS, taskWork(input), schema);
}
