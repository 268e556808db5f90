import { GgmlType, GgufValueType, TokenType, type GgufMetadataEntry } from "./gguf/format.js";
import { float16Bits } from "./gguf/float16.js";
import { encodeGguf, type GgufTensorToWrite } from "./gguf/writer.js";
import { seededRng } from "../util/rng.js";

/**
 * A tiny llama-architecture model with seeded random weights. It produces noise, not language: it exists so that
 * tests and the quickstart exercise the real llama.cpp path on a machine that has no weights and cannot download
 * any. Same options, same bytes, same SHA-256.
 */
export interface TestModelOptions {
  seed?: number;
  name?: string;
  embeddingLength?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  feedForwardLength?: number;
  contextLength?: number;
  /** Leave out a hyper-parameter that llama.cpp asserts on, to produce a malformed model for tests. */
  omitKeys?: string[];
  /**
   * No output.weight: llama.cpp then projects onto the vocabulary with token_embd.weight, as SmolLM2 and Gemma 3
   * do (tied embeddings), which changes what a LoRA adapter may target.
   */
  tiedOutput?: boolean;
}

export const TEST_MODEL_LABEL = "random-weight test model (noise, not language)";

const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface Vocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
}

/** SPM byte-level vocabulary: specials, the 256 byte tokens, ChatML markers, then "▁" and printable ASCII. */
function buildVocabulary(): Vocabulary {
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TokenType.BYTE);
  }
  tokens.push("<|im_start|>", "<|im_end|>");
  types.push(TokenType.CONTROL, TokenType.CONTROL);
  tokens.push("\u2581");
  types.push(TokenType.NORMAL);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(TokenType.NORMAL);
  }
  const scores = tokens.map((_, i) => (types[i] === TokenType.NORMAL ? -i : 0));
  return { tokens, scores, types };
}

function randomF16Tensor(name: string, dims: number[], random: () => number, scale: number): GgufTensorToWrite {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < count; i++) {
    // Sum of uniforms: a cheap, bounded, roughly normal distribution.
    const v = (random() + random() + random() - 1.5) * scale;
    view.setUint16(i * 2, float16Bits(v), true);
  }
  return { name, dims, type: GgmlType.F16, data };
}

/**
 * Embeddings carry a large constant in dimension 0, which survives RMS normalisation as a steady positive
 * component. Output rows of every non-text token weigh that component strongly negative and nothing else, so
 * the model never emits end-of-generation, control or raw byte tokens by chance: generation runs to max_tokens
 * (or a grammar's end) and prints ASCII, which keeps tests and benchmarks of a given length deterministic.
 */
const ANCHOR = 4;
const SUPPRESSED_WEIGHT = -10;

function embeddingTensor(dims: [number, number], random: () => number): GgufTensorToWrite {
  const tensor = randomF16Tensor("token_embd.weight", dims, random, 1);
  const view = new DataView(tensor.data.buffer);
  for (let token = 0; token < dims[1]; token++) view.setUint16(token * dims[0] * 2, float16Bits(ANCHOR), true);
  return tensor;
}

function outputTensor(dims: [number, number], random: () => number, tokenTypes: number[]): GgufTensorToWrite {
  const tensor = randomF16Tensor("output.weight", dims, random, 1);
  const view = new DataView(tensor.data.buffer);
  for (let token = 0; token < dims[1]; token++) {
    const row = token * dims[0] * 2;
    const text = tokenTypes[token] === TokenType.NORMAL;
    for (let i = 0; i < dims[0]; i++) {
      if (!text) view.setUint16(row + i * 2, float16Bits(i === 0 ? SUPPRESSED_WEIGHT : 0), true);
      else if (i === 0) view.setUint16(row, 0, true);
    }
  }
  return tensor;
}

function onesF32Tensor(name: string, length: number): GgufTensorToWrite {
  const data = new Uint8Array(length * 4);
  new Float32Array(data.buffer).fill(1);
  return { name, dims: [length], type: GgmlType.F32, data };
}

const u32Entry = (value: number): GgufMetadataEntry => ({ type: GgufValueType.UINT32, value });

export function buildTestModel(options: TestModelOptions = {}): Buffer {
  const seed = options.seed ?? 1;
  const nEmbd = options.embeddingLength ?? 64;
  const nLayers = options.layers ?? 2;
  const nHead = options.heads ?? 4;
  const nHeadKv = options.kvHeads ?? nHead;
  const nFf = options.feedForwardLength ?? 128;
  const nCtx = options.contextLength ?? 4096;
  const headDim = nEmbd / nHead;
  if (!Number.isInteger(headDim)) throw new Error("embeddingLength must be a multiple of heads");
  const vocab = buildVocabulary();
  const random = seededRng(seed);
  const omit = new Set(options.omitKeys ?? []);

  const metadata: Array<[string, GgufMetadataEntry]> = [
    ["general.architecture", { type: GgufValueType.STRING, value: "llama" }],
    ["general.name", { type: GgufValueType.STRING, value: options.name ?? `atomic-test-${nEmbd}x${nLayers}-seed${seed}` }],
    ["general.description", { type: GgufValueType.STRING, value: TEST_MODEL_LABEL }],
    ["general.file_type", u32Entry(1)],
    ["llama.context_length", u32Entry(nCtx)],
    ["llama.embedding_length", u32Entry(nEmbd)],
    ["llama.block_count", u32Entry(nLayers)],
    ["llama.feed_forward_length", u32Entry(nFf)],
    ["llama.attention.head_count", u32Entry(nHead)],
    ["llama.attention.head_count_kv", u32Entry(nHeadKv)],
    ["llama.rope.dimension_count", u32Entry(headDim)],
    ["llama.attention.layer_norm_rms_epsilon", { type: GgufValueType.FLOAT32, value: 1e-5 }],
    ["tokenizer.ggml.model", { type: GgufValueType.STRING, value: "llama" }],
    ["tokenizer.ggml.tokens", { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32Entry(0)],
    ["tokenizer.ggml.bos_token_id", u32Entry(1)],
    ["tokenizer.ggml.eos_token_id", u32Entry(2)],
    ["tokenizer.ggml.add_bos_token", { type: GgufValueType.BOOL, value: true }],
    ["tokenizer.chat_template", { type: GgufValueType.STRING, value: CHATML_TEMPLATE }],
  ];

  const nVocab = vocab.tokens.length;
  const kvDim = headDim * nHeadKv;
  const tensors: GgufTensorToWrite[] = [
    embeddingTensor([nEmbd, nVocab], random),
    onesF32Tensor("output_norm.weight", nEmbd),
  ];
  // Drawn either way, so that a tied model's blocks are the same as its untied twin's.
  const output = outputTensor([nEmbd, nVocab], random, vocab.types);
  if (!options.tiedOutput) tensors.push(output);
  for (let i = 0; i < nLayers; i++) {
    const scale = 1 / Math.sqrt(nEmbd);
    tensors.push(
      onesF32Tensor(`blk.${i}.attn_norm.weight`, nEmbd),
      randomF16Tensor(`blk.${i}.attn_q.weight`, [nEmbd, nEmbd], random, scale),
      randomF16Tensor(`blk.${i}.attn_k.weight`, [nEmbd, kvDim], random, scale),
      randomF16Tensor(`blk.${i}.attn_v.weight`, [nEmbd, kvDim], random, scale),
      randomF16Tensor(`blk.${i}.attn_output.weight`, [nEmbd, nEmbd], random, scale),
      onesF32Tensor(`blk.${i}.ffn_norm.weight`, nEmbd),
      randomF16Tensor(`blk.${i}.ffn_gate.weight`, [nEmbd, nFf], random, scale),
      randomF16Tensor(`blk.${i}.ffn_up.weight`, [nEmbd, nFf], random, scale),
      randomF16Tensor(`blk.${i}.ffn_down.weight`, [nFf, nEmbd], random, 1 / Math.sqrt(nFf)),
    );
  }
  return encodeGguf({ metadata: metadata.filter(([key]) => !omit.has(key)), tensors });
}
