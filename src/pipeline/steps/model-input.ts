import type { GenerationInput } from "../../inference/interface.js";
import type { ModelView } from "../model-view.js";
import { withSchemaShown } from "../task-prompt.js";

/** What the model reads: the view's input, with its schema shown where the request asks for it (tasks). */
export function modelInput(view: ModelView, showSchema: boolean | undefined): GenerationInput {
  if (!showSchema || view.input.kind !== "chat" || view.structured?.kind !== "json_schema") return view.input;
  return { kind: "chat", messages: withSchemaShown(view.input.messages, view.structured.schema) };
}
