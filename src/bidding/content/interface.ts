import type { BiddingRequest } from "../request.js";

/**
 * What the learner reads of a request's content, next to its shape (features.ts): a sparse vector in a fixed index
 * space. Two implementations behind one interface, chosen by configuration (`bidding.features`): hashed word and
 * character n-grams (./hashed.ts), or the embedding of the prompt by a manifest model (./embedding.ts).
 *
 * Featurizing is synchronous and does no I/O, because decide() is: an embedding is computed before bidding and
 * carried in the request (BiddingRequest.embedding).
 */
export interface ContentVector {
  /** Indices into [0, dimension), each once, in no particular order. */
  indices: Int32Array;
  values: Float32Array;
  /**
   * The text behind an index (an n-gram of the prompt), where the featurizer kept it: decision records name the
   * features that moved a choice. Only valid for the request it was made from.
   */
  describe?: (index: number) => string | undefined;
  /** The first `termCount` entries are the ones `describe` can name (the featurizer puts them first). */
  termCount?: number;
}

export interface ContentFeaturizer {
  /** Names the index space: learned weights are tied to it, and state saved under another layout is discarded. */
  readonly layout: string;
  readonly dimension: number;
  /** Whether requests must carry an embedding (BiddingRequest.embedding) for this featurizer to read content. */
  readonly needsEmbedding: boolean;
  featurize(request: BiddingRequest): ContentVector;
}

export const EMPTY_CONTENT: ContentVector = Object.freeze({ indices: new Int32Array(0), values: new Float32Array(0) });

/** Content featurizing switched off: the learner sees the request's shape only (the default with LinUCB). */
export class NoContentFeaturizer implements ContentFeaturizer {
  readonly layout = "none";
  readonly dimension = 0;
  readonly needsEmbedding = false;
  featurize(): ContentVector {
    return EMPTY_CONTENT;
  }
}
