import type { GenerationInput } from "../../inference/interface.js";
import type { ModelView } from "../model-view.js";
import { withSchemaShown } from "../task-prompt.js";
import { renderTurns, withToolsShown } from "../tools/prompt.js";

/**
 * What the model reads: the view's turns as plain messages (tool calls and results rendered, names left out), the
 * offered tools in the system message, and the schema shown where the request asks for it (tasks).
 */
export function modelInput(view: ModelView, showSchema: boolean | undefined): GenerationInput {
  if (view.input.kind !== "chat") return view.input;
  let messages = renderTurns(view.input.messages);
  if (view.structured?.kind === "tools") messages = withToolsShown(messages, view.structured);
  if (showSchema && view.structured?.kind === "json_schema") messages = withSchemaShown(messages, view.structured.schema);
  return { kind: "chat", messages };
}
