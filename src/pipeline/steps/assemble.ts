import type { GenerationRequest } from "../generate.js";
import type { Selected } from "./select.js";

/** How the caller receives the text: as generated, or with redacted PII put back where the policy allows. */
export interface AnswerText {
  /** Streams chunks to the caller (restoring placeholders split across chunks), or undefined when not streaming. */
  onText: ((chunk: string) => void) | undefined;
  /** Sends what the restoring stream still holds, once generation ended. */
  flush(): void;
  /** The whole answer's text as the caller gets it. */
  text(generated: string): string;
}

/**
 * Assemble: the answer the caller gets. A text answer has the originals of its placeholders restored where the
 * policy lets this caller have them back; a structured value keeps them (see select.ts). Streaming restores on
 * the fly, holding back a chunk that may end inside a placeholder. Tool calls are not streamed as text: the caller
 * gets them checked, once generation ends.
 */
export function answerText(request: Pick<GenerationRequest, "onText">, selected: Pick<Selected, "restoring" | "steering">): AnswerText {
  const restoring = selected.restoring;
  const restoredStream = restoring !== null && request.onText ? restoring.restoreStream() : null;
  const deliver = request.onText && restoredStream ? (chunk: string) => request.onText!(restoredStream.push(chunk)) : request.onText;
  const onText = deliver && selected.steering?.toolCalls ? withoutToolCalls(deliver) : deliver;
  return {
    onText,
    flush: () => {
      if (restoredStream === null) return;
      const rest = restoredStream.end();
      if (rest) request.onText!(rest);
    },
    text: (generated) => (restoring === null ? generated : restoring.restore(generated)),
  };
}

/** Passes an answer's text on and holds back calls: their first character tells them apart (tools/steering.ts). */
function withoutToolCalls(deliver: (chunk: string) => void): (chunk: string) => void {
  let calls: boolean | undefined;
  return (chunk) => {
    if (chunk === "") return;
    calls ??= chunk.startsWith("<");
    if (!calls) deliver(chunk);
  };
}
