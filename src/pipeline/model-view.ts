import { redactSchema, schemaTexts, type Redactor } from "../redaction/index.js";
import type { ChatTurn, RequestInput } from "./request-input.js";
import type { AnswerSpec, StructuredSpec } from "./structured.js";
import type { ToolDefinition } from "./tools/types.js";

/**
 * Everything of a generation request that its model reads or is steered by: the messages or prompt (tool calls
 * and results in them included), the stop sequences, the response schema (its grammar makes the model write the
 * schema's enum and const values and property names), and the tools offered (names, descriptions and parameter
 * schemas are shown in the prompt and compiled into the grammar). The policy decides on all of it, and redaction
 * replaces PII in all of it.
 */
export interface ModelView {
  input: RequestInput;
  stop?: string[];
  structured?: StructuredSpec;
}

/** Every text of the view, as the request's PII scan should see it. */
export function viewTexts(view: ModelView): string[] {
  const texts = view.input.kind === "chat" ? view.input.messages.flatMap(turnTexts) : [view.input.prompt];
  // Concatenated, not push(...): a schema's enum can hold more texts than a call takes arguments.
  return texts.concat(view.stop ?? [], view.structured ? specTexts(view.structured) : []);
}

/** A turn as the model reads it: its content and the calls in it (a participant's name is not shown). */
function turnTexts(turn: ChatTurn): string[] {
  return [turn.content, ...(turn.toolCalls ?? []).flatMap((call) => [call.name, call.arguments])];
}

function specTexts(spec: StructuredSpec): string[] {
  if (spec.kind === "json_object") return [];
  if (spec.kind === "json_schema") return schemaTexts(spec.schema);
  return [...spec.tools.flatMap(toolTexts), ...(spec.answer ? specTexts(spec.answer) : [])];
}

function toolTexts(tool: ToolDefinition): string[] {
  return [tool.name, ...(tool.description === undefined ? [] : [tool.description]), ...schemaTexts(tool.parameters)];
}

/** The view with placeholders from `redactor` in every text: the same value is the same placeholder throughout. */
export function redactedView(view: ModelView, redactor: Redactor): ModelView {
  const text = (value: string) => redactor.redactText(value).text;
  const input: RequestInput = view.input.kind === "chat"
    ? {
      kind: "chat",
      messages: view.input.messages.map((m) => ({
        ...m,
        content: text(m.content),
        ...(m.toolCalls ? { toolCalls: m.toolCalls.map((call) => ({ ...call, name: text(call.name), arguments: text(call.arguments) })) } : {}),
      })),
    }
    : { kind: "completion", prompt: text(view.input.prompt) };
  return {
    input,
    ...(view.stop ? { stop: view.stop.map(text) } : {}),
    ...(view.structured ? { structured: redactedSpec(view.structured, redactor) } : {}),
  };
}

function redactedSpec(spec: StructuredSpec, redactor: Redactor): StructuredSpec {
  if (spec.kind !== "tools") return redactedAnswer(spec, redactor);
  return {
    ...spec,
    // A tool keeps its position: a call of tool i is answered under the caller's own name for it (generate.ts).
    tools: spec.tools.map((tool) => ({
      name: redactor.redactText(tool.name).text,
      ...(tool.description === undefined ? {} : { description: redactor.redactText(tool.description).text }),
      parameters: redactSchema(tool.parameters, redactor),
    })),
    ...(typeof spec.choice === "string" ? {} : { choice: { name: redactor.redactText(spec.choice.name).text } }),
    ...(spec.answer ? { answer: redactedAnswer(spec.answer, redactor) } : {}),
  };
}

function redactedAnswer(spec: AnswerSpec, redactor: Redactor): AnswerSpec {
  return spec.kind === "json_schema" ? { ...spec, schema: redactSchema(spec.schema, redactor) } : spec;
}
