import type { ModelState, ModelStatus } from "../inference/interface.js";
import type { ModelEntry } from "../models/manifest.js";

/**
 * What bidding needs to know about a request, independent of the HTTP surface it came through: the gateway builds
 * one from a /v1/tasks body or a chat/completion body, so the bidding library never parses HTTP shapes itself.
 */
export interface BiddingRequest {
  kind: "chat" | "completion" | "task";
  /** What the model is asked to work on: the last user message, the prompt, or the task input as text. */
  text: string;
  /** System prompt or task instructions: read for task-type cues and counted as prompt, never decomposed. */
  instructions?: string;
  /** Characters of earlier conversation turns sent along (they cost prompt tokens but are not the task). */
  historyChars?: number;
  /** Turns in the conversation; a multi-turn chat is never split into items, its earlier turns bind them. */
  turns?: number;
  /** The JSON Schema the output must satisfy. */
  schema?: Record<string, unknown>;
  /** response_format json_object: JSON output without a schema. */
  jsonObject?: boolean;
  /** The caller's max_tokens: caps the completion tokens a bid expects. */
  maxTokens?: number;
  /**
   * The text's embedding, for the embedding featurizer (content/embedding.ts): computed before bidding, since
   * deciding is synchronous.
   */
  embedding?: ArrayLike<number>;
}

/** A model the request may use, with what a bid needs from its manifest entry and its live status. */
export interface Candidate {
  id: string;
  cost: { unit: string; per1kPromptTokens: number; per1kCompletionTokens: number };
  contextLength: number;
  /** Requests the model serves at once; more wait in its queue. */
  parallel: number;
  /**
   * Prior rank of capability, used only by the always-strongest baseline; larger is stronger. Defaults to the
   * model's file size: absent anything better, a bigger model of the same family is the stronger one.
   */
  strength: number;
  state: ModelState;
  inFlight: number;
  queued: number;
}

/** A manifest/catalog entry and its engine status as a candidate. An unknown status reads as idle and ready. */
export function candidateFrom(model: ModelEntry, status?: ModelStatus, strength?: number): Candidate {
  return {
    id: model.id,
    cost: model.cost,
    contextLength: model.contextLength,
    parallel: model.parallel,
    strength: strength ?? model.sizeBytes,
    state: status?.state ?? "ready",
    inFlight: status?.inFlight ?? 0,
    queued: status?.queued ?? 0,
  };
}
