/** One server-sent event as the stream carried it (WHATWG HTML, "Parsing an event stream"). */
export interface ServerSentEvent {
  /** The event's type: `message` when the stream named none. */
  event: string;
  data: string;
  /** The last event id the stream has set, this event's or an earlier one's; "" when none. */
  id: string;
  /** Milliseconds to wait before reconnecting, when the stream has said so (a `retry:` field, this event's or earlier). */
  retry?: number;
}

/**
 * The events of a text/event-stream body, in order; ends when the body does. Comments (keep-alives) and blocks
 * without data are skipped, as a browser's EventSource skips them. Cancels the body when the loop is left early.
 */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let first = true;
  let lastId = "";
  let type = "";
  let data: string[] = [];
  let retry: number | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      if (first && buffer.length > 0) {
        buffer = buffer.replace(/^\uFEFF/, "");
        first = false;
      }
      // A line ends at CRLF, LF or CR; a CR at the very end may be the first half of a CRLF still to come.
      for (let match = /\r\n|\n|\r(?!$)/.exec(buffer); match !== null; match = /\r\n|\n|\r(?!$)/.exec(buffer)) {
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data.length > 0) {
            yield { event: type || "message", data: data.join("\n"), id: lastId, ...(retry === undefined ? {} : { retry }) };
          }
          type = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") type = value;
        else if (field === "id" && !value.includes("\0")) lastId = value;
        else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
