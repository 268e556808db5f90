/** A past request like the one being decided, answered by the model being explained, and how well it went. */
export interface Neighbour {
  /** The execution that request belonged to: an operator can open its record (itself an audited read). */
  execution: string;
  /** The reward the learner holds for it (0…1: feedback, or the automatic reward until feedback came). */
  reward: number;
  /** Cosine similarity of the two requests' embeddings. */
  similarity: number;
}

/**
 * The explanation a dense featurizer allows. An embedding's 384 numbers name nothing an operator can read, so a
 * decision made on them cannot be explained by its features as n-grams are; it can by precedent: "the cheap
 * model was passed over because on the requests most like this one it scored 0, 0 and 0.2". This keeps the most
 * recent learned outcomes (embedding, model, reward; no text) and finds, per model, the nearest to a new request.
 *
 * In memory only, bounded (`capacity` outcomes, the oldest replaced first), rebuilt from traffic after a restart.
 * The embeddings were computed from the prompt with PII replaced by placeholders; an erasure does not reach them
 * until they are replaced, as it does not reach the learner's weights. A search reads every kept outcome of the
 * model, one inner product each (0.5–0.8 ms per model searched with 1,000 outcomes of 384 numbers kept, on the
 * 2-vCPU build machine), and runs only for decisions made with the embedding featurizer, whose embedding of a
 * 40-token prompt takes ~36 ms there.
 */
export class RecentOutcomes {
  private readonly vectors: Float32Array;
  private readonly models: string[];
  private readonly keys: string[];
  private readonly executions: string[];
  private readonly rewards: Float64Array;
  private readonly slots = new Map<string, number>();
  private next = 0;
  private size = 0;

  constructor(readonly dimension: number, readonly capacity = 1000) {
    this.vectors = new Float32Array(dimension * capacity);
    this.models = new Array<string>(capacity);
    this.keys = new Array<string>(capacity);
    this.executions = new Array<string>(capacity);
    this.rewards = new Float64Array(capacity);
  }

  /** One learned outcome; a vector of another length (a request routed on its shape alone) is not kept. */
  record(executionId: string, microtaskId: string, modelId: string, vector: Float32Array, reward: number): void {
    if (vector.length !== this.dimension) return;
    const norm = length(vector);
    if (norm === 0) return;
    const slot = this.next;
    const evicted = this.keys[slot];
    if (evicted !== undefined) this.slots.delete(evicted);
    const key = slotKey(executionId, microtaskId);
    // Kept at unit length, so a search is one inner product per outcome.
    const offset = slot * this.dimension;
    for (let i = 0; i < this.dimension; i++) this.vectors[offset + i] = vector[i]! / norm;
    this.models[slot] = modelId;
    this.keys[slot] = key;
    this.executions[slot] = executionId;
    this.rewards[slot] = reward;
    this.slots.set(key, slot);
    this.next = (slot + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Feedback replaced the reward of an outcome still kept. */
  revise(executionId: string, microtaskId: string, reward: number): void {
    const slot = this.slots.get(slotKey(executionId, microtaskId));
    if (slot !== undefined) this.rewards[slot] = reward;
  }

  /** The `k` kept outcomes of `modelId` nearest to `vector`, most similar first. */
  nearest(modelId: string, vector: Float32Array, k: number): Neighbour[] {
    if (vector.length !== this.dimension || k <= 0) return [];
    const norm = length(vector);
    if (norm === 0) return [];
    const found: Array<{ slot: number; similarity: number }> = [];
    const { vectors, models, dimension } = this;
    for (let slot = 0; slot < this.size; slot++) {
      if (models[slot] !== modelId) continue;
      const offset = slot * dimension;
      let product = 0;
      for (let i = 0; i < dimension; i++) product += vectors[offset + i]! * vector[i]!;
      const similarity = product / norm;
      if (found.length === k && similarity <= found[k - 1]!.similarity) continue;
      let at = found.length;
      while (at > 0 && found[at - 1]!.similarity < similarity) at--;
      found.splice(at, 0, { slot, similarity });
      if (found.length > k) found.pop();
    }
    return found.map(({ slot, similarity }) => ({
      execution: this.executions[slot]!,
      reward: Math.round(this.rewards[slot]! * 1000) / 1000,
      similarity: Math.round(similarity * 1000) / 1000,
    }));
  }
}

function slotKey(executionId: string, microtaskId: string): string {
  return `${executionId}\n${microtaskId}`;
}

function length(vector: Float32Array): number {
  let squares = 0;
  for (let i = 0; i < vector.length; i++) squares += vector[i]! * vector[i]!;
  return Math.sqrt(squares);
}
