import type { BiddingRequest } from "../../bidding/index.js";
import { ApiError } from "../../gateway/errors.js";
import type { GenerationRequest } from "../generate.js";
import type { ModelView } from "../model-view.js";
import { biddingRequestOf } from "../routing.js";
import { prepareStructured, type PreparedStructured } from "../structured.js";
import { modelInput } from "./model-input.js";

/** The request as it arrived, checked against the gateway's limits and read for bidding. */
export interface Ingested {
  /** Everything the model would read or be steered by, as the caller sent it. */
  asSent: ModelView;
  /** The request's output format as grammar and check, before any redaction. */
  structured: PreparedStructured | undefined;
  /** What bidding and the adaptation analyzer read of the request. */
  bidding: BiddingRequest;
}

/** Ingest: limits first (nothing runs for a request that exceeds them), then the request's shape. */
export function ingest(request: GenerationRequest, limits: { maxTokensLimit: number }): Ingested {
  const structured = request.structured ? prepareStructured(request.structured) : undefined;
  const requested = request.options.maxTokens;
  if (requested !== undefined && requested > limits.maxTokensLimit) {
    throw new ApiError(400, "invalid_request_error", "max_tokens_too_large", `max_tokens may be at most ${limits.maxTokensLimit}`, "max_tokens");
  }
  const asSent: ModelView = {
    input: request.input,
    ...(request.options.stop?.length ? { stop: request.options.stop } : {}),
    ...(request.structured ? { structured: request.structured } : {}),
  };
  const bidding = biddingRequestOf(modelInput(asSent, request.showSchema), {
    ...(request.endpoint === "tasks" ? { kind: "task" as const } : {}),
    ...(request.structured?.kind === "json_schema" ? { schema: request.structured.schema } : {}),
    jsonObject: request.structured?.kind === "json_object",
    ...(requested === undefined ? {} : { maxTokens: requested }),
  });
  return { asSent, structured, bidding };
}
