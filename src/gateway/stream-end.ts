import type { Context } from "hono";

/**
 * Calls `ended` once the answer has gone: at once for a whole answer, and for a streamed one (server-sent events)
 * when its last byte is sent, it fails, or the client goes away — long after the handler returned. For what
 * measures a request to its end (its span, its duration).
 */
export function whenAnswered(c: Context, ended: () => void): void {
  const body = c.res.body;
  if (body === null || !c.res.headers.get("content-type")?.startsWith("text/event-stream")) {
    ended();
    return;
  }
  let called = false;
  const end = () => {
    if (called) return;
    called = true;
    ended();
  };
  const reader = body.getReader();
  const passed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          end();
        } else {
          controller.enqueue(next.value);
        }
      } catch (error) {
        controller.error(error);
        end();
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
  c.res = new Response(passed, c.res);
}
