import type { BiddingRequest } from "../request.js";
import { EMPTY_CONTENT, type ContentFeaturizer, type ContentVector } from "./interface.js";

/**
 * The dense alternative: the prompt's embedding by a manifest model with the `embedding` capability (the gateway
 * pins all-MiniLM-L6-v2: 384 numbers of unit length), as the learner's content block. Computing it is inference,
 * so the pipeline does it before bidding (src/pipeline/routing.ts) and carries it in BiddingRequest.embedding; this
 * featurizer only reads it, synchronously. A request that arrives without one (the embedding failed, or a caller
 * outside the gateway) has no content features: it is routed on its shape alone.
 *
 * Nothing here can name an n-gram: decision records explain its choices by precedent instead (neighbours.ts).
 */
export class EmbeddingFeaturizer implements ContentFeaturizer {
  readonly layout: string;
  readonly needsEmbedding = true;
  private readonly indices: Int32Array;

  constructor(readonly model: string, readonly dimension: number) {
    this.layout = `embedding/1:${model}:${dimension}`;
    this.indices = Int32Array.from({ length: dimension }, (_, i) => i);
  }

  featurize(request: BiddingRequest): ContentVector {
    const embedding = request.embedding;
    if (embedding === undefined || embedding.length !== this.dimension) return EMPTY_CONTENT;
    return { indices: this.indices, values: Float32Array.from(embedding) };
  }
}
