import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { runGeneration, type GenerationOutcome, type GenerationRequest, type PipelineDeps } from "../pipeline/generate.js";
import { ApiError } from "./errors.js";

export interface StreamFrames<T> {
  /**
   * Frames sent once before the first text (OpenAI sends the assistant role first); given the outcome when the
   * generation ended before any text (an answer of tool calls only).
   */
  opening: (ended?: T) => unknown[];
  text: (chunk: string) => unknown;
  closing: (outcome: T) => unknown[];
  /** Frames that report a failure once the stream has begun; absent: the error body, which OpenAI's chat clients raise. */
  failure?: (error: ApiError) => unknown[];
  /** Each frame's event name (`event:`), where the stream names its events (Responses names each by its type). */
  eventName?: (frame: unknown) => string;
  /** Ends the stream with `data: [DONE]` (chat and completions; absent: true). A Responses stream ends with its last event. */
  done?: boolean;
}

/**
 * Streams a generation as OpenAI-style server-sent events: `data: <json>` frames (named where the frames say so),
 * then `data: [DONE]` unless they say otherwise.
 * Headers are held back until the first text arrives, so anything that fails before it (unknown model, a full
 * queue, an unsupported schema) is still answered with a proper status code and JSON error instead of a stream.
 */
export async function streamGeneration<T>(c: Context, run: (onText: (chunk: string) => void) => Promise<T>, frames: StreamFrames<T>): Promise<Response> {
  const pending: string[] = [];
  let wake: (() => void) | undefined;
  let firstText!: () => void;
  let texted = false;
  const started = new Promise<void>((resolve) => (firstText = resolve));
  const outcome = run((chunk) => {
    texted = true;
    pending.push(chunk);
    firstText();
    wake?.();
  });
  await Promise.race([started, outcome]);
  // No text yet: the race was won by the outcome, which has ended.
  const ended = texted ? undefined : await outcome;

  let settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  outcome.then(
    (value) => { settled = { ok: true, value }; wake?.(); },
    (error: unknown) => { settled = { ok: false, error }; wake?.(); },
  );

  return streamSSE(c, async (stream) => {
    const send = (frame: unknown) => stream.writeSSE({ data: JSON.stringify(frame), ...(frames.eventName ? { event: frames.eventName(frame) } : {}) });
    for (const frame of frames.opening(ended)) await send(frame);
    for (;;) {
      while (pending.length > 0) await send(frames.text(pending.shift()!));
      if (settled) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    while (pending.length > 0) await send(frames.text(pending.shift()!));
    if (settled.ok) {
      for (const frame of frames.closing(settled.value)) await send(frame);
    } else {
      const error = settled.error instanceof ApiError
        ? settled.error
        : new ApiError(500, "server_error", "internal_error", "internal error; see the gateway log for this request id");
      if (!(settled.error instanceof ApiError)) c.get("log")?.error({ err: settled.error }, "stream failed");
      for (const frame of frames.failure?.(error) ?? [error.toBody()]) await send(frame);
    }
    if (frames.done ?? true) await stream.writeSSE({ data: "[DONE]" });
  });
}

/**
 * streamGeneration for a generation that may be routed: the frames read the chosen model's id through `model()`,
 * which is the requested id until the model is chosen (bidding chooses before the first text).
 */
export function streamRoutedGeneration(c: Context, deps: PipelineDeps, request: GenerationRequest, frames: (model: () => string) => StreamFrames<GenerationOutcome>): Promise<Response> {
  let modelId = request.model ?? "";
  return streamGeneration(c, (onText) => runGeneration(deps, {
    ...request,
    onText,
    onModel: (model, decision) => {
      modelId = model.id;
      request.onModel?.(model, decision);
    },
  }), frames(() => modelId));
}
