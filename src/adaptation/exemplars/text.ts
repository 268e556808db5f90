import { storedMicrotaskInput } from "../../pipeline/task-prompt.js";
import type { RatedExample } from "./interface.js";

/** A rated example as the prompt engineer uses it: what was asked, what was answered, and in which form. */
export interface ExemplarText {
  executionId: string;
  /** The work: a chat's last user message, a task's input, or a completion's whole prompt. */
  question: string;
  answer: string;
  /** A completion's prompt and answer are one text, the answer continuing the prompt. */
  completion: boolean;
}

const NUMBERED_PLACEHOLDER = /\[([A-Z][A-Z0-9_]*)_(\d+)\]/g;

/**
 * The stored input and output as exemplar text, or null when the stored form is not one this knows. Placeholders
 * lose their number (`[EMAIL_1]` → `[EMAIL]`): the request's own redactor numbers its placeholders from 1 too, and
 * a model that copied an exemplar's `[EMAIL_1]` into its answer must not get the request's e-mail address restored
 * in its place. Nothing is ever restored into an exemplar: it is shown as stored.
 */
export function exemplarText(example: RatedExample): ExemplarText | null {
  // Tool calls are no answer to show: an exemplar of one would teach the model to write calls as text.
  if (isRecord(example.output) && "tool_calls" in example.output) return null;
  const question = questionOf(example.input);
  const answer = typeof example.output === "string" ? example.output : example.output == null ? null : JSON.stringify(example.output);
  if (question === null || answer === null || question.trim() === "" || answer.trim() === "") return null;
  return {
    executionId: example.executionId,
    question: unnumbered(question),
    answer: unnumbered(answer),
    completion: example.endpoint === "completions",
  };
}

/** The same for the request: the text exemplars are compared with. */
export function questionOf(input: unknown): string | null {
  if (!isRecord(input)) return null;
  if (input.kind === "completion" && typeof input.prompt === "string") return input.prompt;
  if (input.kind === "chat" && Array.isArray(input.messages)) {
    const last = [...input.messages].reverse().find((m) => isRecord(m) && m.role === "user" && typeof m.content === "string");
    return last === undefined ? null : (last as { content: string }).content;
  }
  const microtaskInput = storedMicrotaskInput(input);
  if (isRecord(microtaskInput)) return questionOf(microtaskInput);
  // A task as stored: {input, instructions}.
  if ("input" in input && "instructions" in input) return typeof input.input === "string" ? input.input : JSON.stringify(input.input);
  return null;
}

function unnumbered(text: string): string {
  return text.replace(NUMBERED_PLACEHOLDER, "[$1]");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
