import { encodeLoraAdapter } from "../../src/models/adapters/lora-gguf.js";

/** The generated test model's shape (src/models/test-model.ts defaults). */
export const TEST_MODEL_SHAPE = { embedding: 64, vocabulary: 356, feedForward: 128, layers: 2 } as const;

/**
 * A LoRA adapter for an untied generated test model that adds `strength` · h₀ to one token's logit, h₀ being
 * dimension 0 of the normed final state — the anchor every token embedding carries, so it is large and positive
 * whatever the prompt: with a strength of a few units the token becomes certain. Its exact effect on the logits is
 * scale · strength · h₀ for that token and nothing for the others.
 */
export function tokenAdapter(token: number, strength: number): Buffer {
  const { embedding, vocabulary } = TEST_MODEL_SHAPE;
  const a = new Float32Array(embedding);
  a[0] = 1;
  const b = new Float32Array(vocabulary);
  b[token] = strength;
  return encodeLoraAdapter({ architecture: "llama", alpha: 1, pairs: [{ target: "output.weight", rank: 1, inputs: embedding, outputs: vocabulary, a, b }] });
}

/** The generated vocabulary's id of a printable ASCII character (src/models/test-model.ts: after "▁" at 261). */
export function asciiToken(char: string): number {
  const code = char.charCodeAt(0);
  if (char.length !== 1 || code < 0x21 || code > 0x7e) throw new RangeError(`${JSON.stringify(char)} is not one printable ASCII character`);
  return 262 + (code - 0x21);
}
