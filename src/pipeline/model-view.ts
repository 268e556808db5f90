import type { GenerationInput } from "../inference/interface.js";
import { redactSchema, schemaTexts, type Redactor } from "../redaction/index.js";
import type { StructuredSpec } from "./structured.js";

/**
 * Everything of a generation request that its model reads or is steered by: the messages or prompt, the stop
 * sequences, and the response schema (its grammar makes the model write the schema's enum and const values and
 * property names). The policy decides on all of it, and redaction replaces PII in all of it.
 */
export interface ModelView {
  input: GenerationInput;
  stop?: string[];
  structured?: StructuredSpec;
}

/** Every text of the view, as the request's PII scan should see it. */
export function viewTexts(view: ModelView): string[] {
  const texts = view.input.kind === "chat" ? view.input.messages.map((m) => m.content) : [view.input.prompt];
  if (view.stop) texts.push(...view.stop);
  if (view.structured?.kind === "json_schema") texts.push(...schemaTexts(view.structured.schema));
  return texts;
}

/** The view with placeholders from `redactor` in every text: the same value is the same placeholder throughout. */
export function redactedView(view: ModelView, redactor: Redactor): ModelView {
  const input: GenerationInput = view.input.kind === "chat"
    ? { kind: "chat", messages: view.input.messages.map((m) => ({ ...m, content: redactor.redactText(m.content).text })) }
    : { kind: "completion", prompt: redactor.redactText(view.input.prompt).text };
  return {
    input,
    ...(view.stop ? { stop: view.stop.map((stop) => redactor.redactText(stop).text) } : {}),
    ...(view.structured ? { structured: redactedSpec(view.structured, redactor) } : {}),
  };
}

function redactedSpec(spec: StructuredSpec, redactor: Redactor): StructuredSpec {
  return spec.kind === "json_schema" ? { ...spec, schema: redactSchema(spec.schema, redactor) } : spec;
}
