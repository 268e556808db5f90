import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

/**
 * The normed final state at the last token of a prompt — llama.cpp's embedding output for a causal model
 * (pooling "none": `result_norm` of the last evaluated token) — read from a context that keeps embeddings.
 *
 * Not LlamaEmbeddingContext: it prepends the beginning-of-sequence token whenever the vocabulary asks for one,
 * which a chat prompt rendered by the model's template does not start with (the generated test models'), so its
 * state would not be the one the model host generates from. This reads the tokens as given, through two
 * internals of node-llama-cpp 3.21.1 (pinned exactly in package.json): the `_embeddings` context option and the
 * binding's `getEmbedding`, the pair LlamaEmbeddingContext itself uses. Consecutive prompts sharing a prefix (one
 * task's template) keep its evaluation: only the rest is evaluated again.
 */
export class HiddenStates {
  private readonly sequence: LlamaContextSequence;
  private previous: readonly Token[] = [];

  private constructor(private readonly context: LlamaContext) {
    this.sequence = context.getSequence();
  }

  static async open(model: LlamaModel, options: { contextSize: number; threads: number }): Promise<HiddenStates> {
    const context = await model.createContext({ contextSize: options.contextSize, threads: options.threads, sequences: 1, _embeddings: true } as Parameters<LlamaModel["createContext"]>[0]);
    if (typeof (context as unknown as Internal)._ctx?.getEmbedding !== "function") {
      await context.dispose();
      throw new Error("this node-llama-cpp has no embedding read-out on contexts (Atomic pins 3.21.1)");
    }
    return new HiddenStates(context);
  }

  async of(tokens: readonly Token[]): Promise<Float64Array> {
    if (tokens.length === 0) throw new RangeError("an empty prompt has no hidden state");
    if (tokens.length >= this.context.contextSize) throw new RangeError(`a prompt of ${tokens.length} tokens does not fit the ${this.context.contextSize}-token context`);
    let shared = 0;
    while (shared < tokens.length - 1 && shared < this.previous.length && tokens[shared] === this.previous[shared]) shared++;
    await this.sequence.eraseContextTokenRanges([{ start: shared, end: this.sequence.nextTokenIndex }]);
    const rest = tokens.slice(shared);
    const evaluation = this.sequence.evaluate(rest as Token[], { _noSampling: true } as Parameters<LlamaContextSequence["evaluate"]>[1]);
    // The first step of the iterator evaluates the tokens; nothing is generated.
    await evaluation.next();
    await evaluation.return(undefined);
    this.previous = tokens;
    return Float64Array.from((this.context as unknown as Internal)._ctx.getEmbedding(tokens.length));
  }

  async close(): Promise<void> {
    await this.context.dispose();
  }
}

interface Internal {
  _ctx: { getEmbedding(inputTokensLength: number): Float64Array };
}
