import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Llama, type LlamaEmbeddingContext, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRng, type Rng } from "../../util/rng.js";
import { float16Bits } from "../gguf/float16.js";
import { metadataNumber, metadataString, readGgufHeader } from "../gguf/reader.js";
import { findGgufProblems } from "../gguf/validate.js";
import { convertBertToGguf } from "./bert.js";
import { ModelConversionError } from "./checkpoint-files.js";
import { SafetensorsFile, SafetensorsFormatError } from "./safetensors.js";

// ---------------------------------------------------------------------------------------------------------------
// A tiny random BERT checkpoint in sentence-transformers layout, written by the test itself.
// ---------------------------------------------------------------------------------------------------------------

const HIDDEN = 32;
const LAYERS = 2;
const HEADS = 2;
const FEED_FORWARD = 64;
const MAX_POSITIONS = 64;
const TOKEN_TYPES = 2;
const LAYER_NORM_EPS = 1e-12;

/** Specials deliberately away from bert-base's ids (101, 102…), so the converter must write them. */
const VOCAB = [
  "[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
  ".", ",", "!", "'", "?",
  ..."abcdefghijklmnopqrstuvwxyz".split(""),
  ..."abcdefghijklmnopqrstuvwxyz".split("").map((c) => `##${c}`),
  "the", "cat", "sat", "on", "mat", "dog", "play", "##ing", "un", "##aff", "##able", "hello", "world",
  "guitar", "run", "##ner", "token", "##ize", "quick", "brown", "fox", "jump", "over", "lazy",
];
const idOf = (token: string): number => {
  const id = VOCAB.indexOf(token);
  if (id < 0) throw new Error(`test vocabulary lacks ${token}`);
  return id;
};

type Weights = Map<string, { shape: number[]; values: Float32Array }>;

function randomTensor(random: Rng, shape: number[], scale: number, offset = 0): { shape: number[]; values: Float32Array } {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  // Sum of uniforms: a cheap, bounded, roughly normal distribution.
  for (let i = 0; i < values.length; i++) values[i] = offset + (random() + random() + random() - 1.5) * scale;
  return { shape, values };
}

function bertWeights(seed: number): Weights {
  const random = seededRng(seed);
  const weights: Weights = new Map();
  const add = (name: string, shape: number[], scale: number, offset = 0) => weights.set(name, randomTensor(random, shape, scale, offset));
  const layerNorm = (prefix: string) => {
    add(`${prefix}.weight`, [HIDDEN], 0.3, 1);
    add(`${prefix}.bias`, [HIDDEN], 0.2);
  };
  const linear = (prefix: string, outputs: number, inputs: number, gain = 1) => {
    add(`${prefix}.weight`, [outputs, inputs], (2 * gain) / Math.sqrt(inputs));
    add(`${prefix}.bias`, [outputs], 0.2);
  };
  add("embeddings.word_embeddings.weight", [VOCAB.length, HIDDEN], 2);
  add("embeddings.position_embeddings.weight", [MAX_POSITIONS, HIDDEN], 1);
  add("embeddings.token_type_embeddings.weight", [TOKEN_TYPES, HIDDEN], 1);
  layerNorm("embeddings.LayerNorm");
  for (let i = 0; i < LAYERS; i++) {
    const p = `encoder.layer.${i}`;
    // Larger query/key weights make attention peaked, so a mistake in attention shows in the output.
    linear(`${p}.attention.self.query`, HIDDEN, HIDDEN, 2);
    linear(`${p}.attention.self.key`, HIDDEN, HIDDEN, 2);
    linear(`${p}.attention.self.value`, HIDDEN, HIDDEN);
    linear(`${p}.attention.output.dense`, HIDDEN, HIDDEN);
    layerNorm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, FEED_FORWARD, HIDDEN);
    linear(`${p}.output.dense`, HIDDEN, FEED_FORWARD);
    layerNorm(`${p}.output.LayerNorm`);
  }
  // In real checkpoints too; the converter must drop them.
  linear("pooler.dense", HIDDEN, HIDDEN);
  return weights;
}

type SafetensorsEntry = { dtype: string; shape: number[]; data: Uint8Array };

/** Writes the safetensors layout: u64 header length, JSON header padded with spaces to 8 bytes, then the data. */
function encodeSafetensors(entries: Map<string, SafetensorsEntry>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, entry] of entries) {
    header[name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + entry.data.length] };
    offset += entry.data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), ...[...entries.values()].map((e) => e.data)]);
}

function f32Entry(tensor: { shape: number[]; values: Float32Array }): SafetensorsEntry {
  return { dtype: "F32", shape: tensor.shape, data: new Uint8Array(tensor.values.buffer.slice(0)) };
}

function writeCheckpoint(dir: string, weights: Weights, options: { leaveOut?: string } = {}): void {
  mkdirSync(join(dir, "1_Pooling"), { recursive: true });
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, tensor] of weights) if (name !== options.leaveOut) entries.set(name, f32Entry(tensor));
  entries.set("embeddings.position_ids", {
    dtype: "I64",
    shape: [1, MAX_POSITIONS],
    data: new Uint8Array(BigInt64Array.from({ length: MAX_POSITIONS }, (_, i) => BigInt(i)).buffer),
  });
  writeFileSync(join(dir, "model.safetensors"), encodeSafetensors(entries));
  writeJson(join(dir, "config.json"), {
    architectures: ["BertModel"],
    model_type: "bert",
    hidden_act: "gelu",
    hidden_size: HIDDEN,
    intermediate_size: FEED_FORWARD,
    num_hidden_layers: LAYERS,
    num_attention_heads: HEADS,
    max_position_embeddings: MAX_POSITIONS,
    type_vocab_size: TOKEN_TYPES,
    vocab_size: VOCAB.length,
    layer_norm_eps: LAYER_NORM_EPS,
    pad_token_id: 0,
    position_embedding_type: "absolute",
  });
  writeFileSync(join(dir, "vocab.txt"), VOCAB.join("\n") + "\n");
  writeJson(join(dir, "tokenizer_config.json"), { do_lower_case: true, strip_accents: null, tokenize_chinese_chars: true, cls_token: "[CLS]", sep_token: "[SEP]" });
  writeJson(join(dir, "special_tokens_map.json"), { unk_token: "[UNK]", sep_token: "[SEP]", pad_token: "[PAD]", cls_token: "[CLS]", mask_token: "[MASK]" });
  writeJson(join(dir, "modules.json"), [
    { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
    { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
    { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
  ]);
  writeJson(join(dir, "1_Pooling", "config.json"), { word_embedding_dimension: HIDDEN, pooling_mode_mean_tokens: true, pooling_mode_cls_token: false, pooling_mode_max_tokens: false });
  writeJson(join(dir, "sentence_bert_config.json"), { max_seq_length: 48, do_lower_case: false });
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// An independent reference: HF BertModel's forward pass and sentence-transformers' mean pooling, in float64.
// ---------------------------------------------------------------------------------------------------------------

/** Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), far below what the comparison can resolve. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** HF BERT's "gelu" is the exact (erf) form; llama.cpp computes the tanh approximation through an F16 table. */
const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

type Matrix = number[][];

/**
 * The embedding sentence-transformers computes for `ids` inside a padded batch: padded to `paddedLength` with
 * [PAD], which the attention mask keeps out of attention and pooling, so the result must not depend on it.
 */
function referenceEmbedding(weights: Weights, ids: number[], paddedLength: number, pooling: "mean" | "cls"): number[] {
  const w = (name: string) => weights.get(name)!.values;
  const row = (name: string, index: number, width: number) => Array.from(w(name).subarray(index * width, (index + 1) * width));
  const layerNorm = (x: Matrix, prefix: string): Matrix => x.map((v) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
    const scale = 1 / Math.sqrt(variance + LAYER_NORM_EPS);
    return v.map((value, i) => (value - mean) * scale * w(`${prefix}.weight`)[i]! + w(`${prefix}.bias`)[i]!);
  });
  const linear = (x: Matrix, prefix: string): Matrix => {
    const { shape: [outputs, inputs] } = weights.get(`${prefix}.weight`)!;
    const weight = w(`${prefix}.weight`);
    const bias = w(`${prefix}.bias`);
    return x.map((v) => Array.from({ length: outputs! }, (_, o) => {
      let sum = bias[o]!;
      for (let i = 0; i < inputs!; i++) sum += weight[o * inputs! + i]! * v[i]!;
      return sum;
    }));
  };
  const add = (a: Matrix, b: Matrix): Matrix => a.map((v, t) => v.map((value, i) => value + b[t]![i]!));

  const padded = [...ids, ...new Array<number>(paddedLength - ids.length).fill(idOf("[PAD]"))];
  // Additive attention mask: padding gets -Infinity, so softmax gives it no weight.
  const attentionMask = padded.map((_, i) => (i < ids.length ? 0 : Number.NEGATIVE_INFINITY));
  // Token type 0 everywhere (one sentence), positions 0..n-1, as HF does for a single input.
  let x: Matrix = padded.map((id, position) => {
    const word = row("embeddings.word_embeddings.weight", id, HIDDEN);
    const pos = row("embeddings.position_embeddings.weight", position, HIDDEN);
    const type = row("embeddings.token_type_embeddings.weight", 0, HIDDEN);
    return word.map((v, i) => v + pos[i]! + type[i]!);
  });
  x = layerNorm(x, "embeddings.LayerNorm");
  const headSize = HIDDEN / HEADS;
  for (let layer = 0; layer < LAYERS; layer++) {
    const p = `encoder.layer.${layer}`;
    const q = linear(x, `${p}.attention.self.query`);
    const k = linear(x, `${p}.attention.self.key`);
    const v = linear(x, `${p}.attention.self.value`);
    const context: Matrix = x.map(() => new Array<number>(HIDDEN).fill(0));
    for (let h = 0; h < HEADS; h++) {
      const lo = h * headSize;
      for (let t = 0; t < padded.length; t++) {
        const scores = padded.map((_, s) => {
          let dot = 0;
          for (let i = lo; i < lo + headSize; i++) dot += q[t]![i]! * k[s]![i]!;
          return dot / Math.sqrt(headSize) + attentionMask[s]!;
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, s) => {
          for (let i = lo; i < lo + headSize; i++) context[t]![i]! += (e / total) * v[s]![i]!;
        });
      }
    }
    x = layerNorm(add(linear(context, `${p}.attention.output.dense`), x), `${p}.attention.output.LayerNorm`);
    const up = linear(x, `${p}.intermediate.dense`).map((r) => r.map(gelu));
    x = layerNorm(add(linear(up, `${p}.output.dense`), x), `${p}.output.LayerNorm`);
  }
  if (pooling === "cls") return x[0]!;
  // Mean pooling over every token the mask admits, [CLS] and [SEP] included.
  const tokens = x.slice(0, ids.length);
  return Array.from({ length: HIDDEN }, (_, i) => tokens.reduce((sum, r) => sum + r[i]!, 0) / tokens.length);
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0, na = 0, nb = 0;
  a.forEach((v, i) => { dot += v * b[i]!; na += v * v; nb += b[i]! * b[i]!; });
  return dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------------------------

const root = mkdtempSync(join(tmpdir(), "atomic-bert-"));
const weights = bertWeights(7);
const modelDir = join(root, "model");
writeCheckpoint(modelDir, weights);
const convert = (dir: string, outputPath?: string) => convertBertToGguf({ modelDir: dir, name: "tiny-bert", license: "apache-2.0", outputPath });

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("BERT checkpoint → GGUF", () => {
  const ggufPath = join(root, "tiny-bert.gguf");
  let llama: Llama;
  let model: LlamaModel;
  let embedder: LlamaEmbeddingContext;

  beforeAll(async () => {
    convert(modelDir, ggufPath);
    llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, skipDownload: true, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: ggufPath });
    embedder = await model.createEmbeddingContext({ contextSize: MAX_POSITIONS, threads: 1 });
  });

  afterAll(async () => {
    await embedder?.dispose();
    await model?.dispose();
    await llama?.dispose();
  });

  it("writes the keys llama.cpp's BERT loader reads", () => {
    const header = readGgufHeader(ggufPath);
    expect(findGgufProblems(header)).toEqual([]);
    expect(metadataString(header, "general.architecture")).toBe("bert");
    expect(metadataString(header, "general.license")).toBe("apache-2.0");
    expect(metadataNumber(header, "bert.pooling_type")).toBe(1);
    expect(metadataNumber(header, "tokenizer.ggml.bos_token_id")).toBe(idOf("[CLS]"));
    expect(metadataNumber(header, "tokenizer.ggml.seperator_token_id")).toBe(idOf("[SEP]"));
    expect(metadataNumber(header, "tokenizer.ggml.unknown_token_id")).toBe(idOf("[UNK]"));
    const tokens = header.metadata.get("tokenizer.ggml.tokens")!.value as string[];
    expect([tokens[idOf("[CLS]")], tokens[idOf("the")], tokens[idOf("##ing")], tokens[idOf("[unused0]")]]).toEqual(["[CLS]", "\u2581the", "ing", "\u2581[unused0]"]);
    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")).toMatchObject({ dims: [HIDDEN, VOCAB.length], type: 1 });
    expect(byName.get("blk.1.ffn_up.weight")).toMatchObject({ dims: [HIDDEN, FEED_FORWARD], type: 1 });
    expect(byName.get("position_embd.weight")).toMatchObject({ dims: [HIDDEN, MAX_POSITIONS], type: 0 });
    expect(byName.has("pooler.dense.weight")).toBe(false);
    expect(header.tensors).toHaveLength(5 + 16 * LAYERS);
  });

  it.each([
    ["The cat sat on the mat.", ["the", "cat", "sat", "on", "the", "mat", "."]],
    ["Unaffable dogs, PLAYING!", ["un", "##aff", "##able", "dog", "##s", ",", "play", "##ing", "!"]],
    ["Héllo wörld, tokenizer?", ["hello", "world", ",", "token", "##ize", "##r", "?"]],
    ["xyz don't q€", ["x", "##y", "##z", "d", "##o", "##n", "'", "t", "[UNK]"]],
  ])("tokenizes %j as WordPiece does, inside [CLS] … [SEP]", (text, pieces) => {
    // getEmbeddingFor tokenizes without specials, then prepends tokens.bos and appends tokens.sep for a WPM vocabulary.
    expect([model.tokens.bos, model.tokens.sep]).toEqual([idOf("[CLS]"), idOf("[SEP]")]);
    expect([...model.tokenize(text)]).toEqual(pieces.map(idOf));
  });

  it("embeds like an independent forward pass of the checkpoint", async () => {
    const texts = ["The cat sat on the mat.", "Unaffable dogs, PLAYING!", "hello world", "the quick brown fox jump over the lazy dog"];
    const vectors: number[][] = [];
    for (const text of texts) {
      const ids = [idOf("[CLS]"), ...model.tokenize(text), idOf("[SEP]")];
      const { vector } = await embedder.getEmbeddingFor(text);
      const reference = referenceEmbedding(weights, ids, 24, "mean");
      // Matrices are stored as F16 (relative rounding 2^-11), llama.cpp multiplies F16 weights by activations
      // rounded to F16 and computes the tanh GELU through an F16 table: ~1e-3 relative error per value, which
      // left cosine at 0.9999997 here. 0.999 allows for rounding and little else: zeroing one bias of one layer
      // measured 0.990, one transposed matrix 0.96 or less, and different texts sit under 0.99 (checked below).
      expect(cosine(vector, reference)).toBeGreaterThanOrEqual(0.999);
      // Like sentence-transformers before its Normalize module: not unit length.
      expect(Math.abs(Math.hypot(...vector) - 1)).toBeGreaterThan(0.01);
      vectors.push([...vector]);
    }
    for (let i = 1; i < vectors.length; i++) expect(cosine(vectors[0]!, vectors[i]!)).toBeLessThan(0.99);
  });

  it("expresses CLS pooling too", async () => {
    const dir = join(root, "cls");
    writeCheckpoint(dir, weights);
    writeJson(join(dir, "1_Pooling", "config.json"), { word_embedding_dimension: HIDDEN, pooling_mode_cls_token: true });
    const path = join(root, "cls.gguf");
    expect(convert(dir, path).pooling).toBe("cls");
    const clsModel = await llama.loadModel({ modelPath: path });
    const clsEmbedder = await clsModel.createEmbeddingContext({ contextSize: MAX_POSITIONS, threads: 1 });
    try {
      const text = "The cat sat on the mat.";
      const ids = [idOf("[CLS]"), ...clsModel.tokenize(text), idOf("[SEP]")];
      const { vector } = await clsEmbedder.getEmbeddingFor(text);
      // Same bound and reason as for mean pooling above.
      expect(cosine(vector, referenceEmbedding(weights, ids, 24, "cls"))).toBeGreaterThanOrEqual(0.999);
      expect(cosine(vector, referenceEmbedding(weights, ids, 24, "mean"))).toBeLessThan(0.99);
    } finally {
      await clsEmbedder.dispose();
      await clsModel.dispose();
    }
  });

  it("is deterministic: the same checkpoint gives the same bytes", () => {
    const again = convert(modelDir);
    expect(again.gguf.equals(readFileSync(ggufPath))).toBe(true);
    expect(again).toMatchObject({ pooling: "mean", normalize: true, embeddingLength: HIDDEN, contextLength: MAX_POSITIONS, maxSequenceLength: 48 });
  });
});

describe("refusals: a clear error and nothing written", () => {
  function variant(name: string, change: (dir: string) => void): { dir: string; output: string } {
    const dir = join(root, name);
    writeCheckpoint(dir, weights);
    change(dir);
    return { dir, output: join(root, `${name}.gguf`) };
  }

  it.each<[string, (dir: string) => void, RegExp]>([
    ["truncated", (dir) => {
      const bytes = readFileSync(join(dir, "model.safetensors"));
      writeFileSync(join(dir, "model.safetensors"), bytes.subarray(0, bytes.length - 1000));
    }, /model\.safetensors: .*past the .*data buffer \(truncated file\?\)/],
    ["cut-in-header", (dir) => {
      writeFileSync(join(dir, "model.safetensors"), readFileSync(join(dir, "model.safetensors")).subarray(0, 100));
    }, /model\.safetensors: header length \d+ runs past the end/],
    ["roberta", (dir) => {
      const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      writeJson(join(dir, "config.json"), { ...config, architectures: ["RobertaModel"], model_type: "roberta" });
    }, /roberta\/config\.json: architectures \["RobertaModel"\].*not a BertModel/],
    ["missing-tensor", (dir) => {
      const partial = new Map(weights);
      partial.delete("encoder.layer.1.attention.self.value.bias");
      writeCheckpoint(dir, partial);
    }, /model\.safetensors: tensor encoder\.layer\.1\.attention\.self\.value\.bias is missing/],
    ["max-pooling", (dir) => {
      writeJson(join(dir, "1_Pooling", "config.json"), { word_embedding_dimension: HIDDEN, pooling_mode_max_tokens: true });
    }, /1_Pooling\/config\.json: pooling pooling_mode_max_tokens is not exactly one of mean or cls/],
    ["dense-module", (dir) => {
      const modules = JSON.parse(readFileSync(join(dir, "modules.json"), "utf8"));
      modules.splice(2, 0, { idx: 2, name: "2", path: "2_Dense", type: "sentence_transformers.models.Dense" });
      writeJson(join(dir, "modules.json"), modules);
    }, /modules\.json: modules .*Dense.* are not Transformer → Pooling → \(Normalize\)/],
    ["bpe-tokenizer", (dir) => {
      writeJson(join(dir, "tokenizer.json"), { model: { type: "BPE" } });
    }, /tokenizer\.json: model\.type is not WordPiece/],
  ])("%s", (name, change, message) => {
    const { dir, output } = variant(name, change);
    expect(() => convert(dir, output)).toThrow(ModelConversionError);
    expect(() => convert(dir, output)).toThrow(message);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith(`${name}.gguf`))).toEqual([]);
  });
});

describe("safetensors reader", () => {
  const path = join(root, "small.safetensors");
  function header(tensors: Record<string, unknown>, dataLength: number): Buffer {
    const json = Buffer.from(JSON.stringify(tensors));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, Buffer.alloc(dataLength)]);
  }

  it("widens F16 and BF16 to float32", () => {
    const values = [1, -2.5, 0.0999755859375, 65504];
    const halves = Uint16Array.from(values, float16Bits);
    const bfloats = Uint16Array.from(values, (v) => new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16);
    writeFileSync(path, encodeSafetensors(new Map([
      ["h", { dtype: "F16", shape: [2, 2], data: new Uint8Array(halves.buffer) }],
      ["b", { dtype: "BF16", shape: [4], data: new Uint8Array(bfloats.buffer) }],
    ])));
    const file = SafetensorsFile.open(path);
    try {
      expect([...file.readFloat32("h")]).toEqual(values);
      expect([...file.readFloat32("b")]).toEqual([1, -2.5, 0.099609375, 65280]);
    } finally {
      file.close();
    }
  });

  it.each<[string, Record<string, unknown>, number, RegExp]>([
    ["overlapping offsets", { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12, /tensor [ab] overlaps/],
    ["offsets out of range", { a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8, /past the 8-byte data buffer/],
    ["unknown dtype", { a: { dtype: "F12", shape: [1], data_offsets: [0, 2] } }, 2, /tensor a: unknown dtype "F12"/],
    ["size not matching the shape", { a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8, /holds 8 bytes but F32\[3\] needs 12/],
    ["a hole in the data", { a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8, /bytes 0\.\.4 .* belong to no tensor/],
  ])("refuses %s", (_, tensors, dataLength, message) => {
    writeFileSync(path, header(tensors, dataLength));
    expect(() => SafetensorsFile.open(path)).toThrow(SafetensorsFormatError);
    expect(() => SafetensorsFile.open(path)).toThrow(message);
  });
});
