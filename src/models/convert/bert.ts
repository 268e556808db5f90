import { createHash } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { float16Bits } from "../gguf/float16.js";
import { GgmlType, GgufValueType, type GgufMetadataEntry } from "../gguf/format.js";
import { encodeGguf, type GgufTensorToWrite } from "../gguf/writer.js";
import { isPositiveInteger, isRecord, ModelConversionError, readJson } from "./checkpoint-files.js";
import { SafetensorsFile, SafetensorsFormatError } from "./safetensors.js";
import { PoolingType, readSentenceTransformersPipeline, type Pooling } from "./sentence-transformers.js";
import { readWordPieceVocabulary, type WordPieceVocabulary } from "./wordpiece-vocab.js";

/**
 * Converts a sentence-transformers BERT checkpoint (safetensors) into a GGUF embedding model for llama.cpp, mapping
 * keys and tensors the way llama.cpp's own convert_hf_to_gguf.py does for BertModel with `--outtype f16`: matrices
 * as F16 (round to nearest even), norms, biases and the position / token-type tables as F32. The same input bytes
 * always give the same output bytes.
 *
 * What GGUF cannot carry: sentence-transformers' Normalize module. llama.cpp pools (mean or CLS, written as
 * bert.pooling_type) but does not L2-normalise, and node-llama-cpp's `getEmbeddingFor` returns the pooled vector as
 * it is. When `normalize` is true in the result, the caller must L2-normalise each vector to match
 * sentence-transformers (cosine similarity is unaffected either way).
 *
 * Differences from sentence-transformers a caller should know: llama.cpp's GELU is the tanh approximation (HF BERT
 * uses the erf form), and llama.cpp accepts inputs up to `contextLength` tokens while sentence-transformers
 * truncates at `maxSequenceLength`.
 */
export interface ConvertBertOptions {
  /** A sentence-transformers folder: modules.json, the pooling folder, config.json, model.safetensors, vocab.txt. */
  modelDir: string;
  /** Written as general.name. */
  name: string;
  /** Written as general.license, e.g. "apache-2.0"; left out when absent. */
  license?: string;
  /** Where to write the GGUF file; nothing is written when the conversion is refused. */
  outputPath?: string;
}

export interface ConvertedModel {
  gguf: Buffer;
  /** Hex SHA-256 of `gguf`. */
  sha256: string;
  pooling: Pooling;
  /** The pipeline ends with Normalize: L2-normalise the vectors llama.cpp returns. */
  normalize: boolean;
  embeddingLength: number;
  /** Longest input llama.cpp accepts (max_position_embeddings). */
  contextLength: number;
  /** sentence-transformers truncates inputs to this many tokens, when its config says so. */
  maxSequenceLength: number | undefined;
}

interface BertHyperParameters {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  tokenTypes: number;
  layerNormEpsilon: number;
}

/** One GGUF tensor and where it comes from; `matrix` tensors are stored as F16, the rest as F32. */
interface TensorMapping {
  source: string;
  target: string;
  shape: number[];
  matrix: boolean;
}

/** In the checkpoint but not used for embeddings, like llama.cpp's converter drops them. */
const DROPPED_TENSORS = new Set(["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"]);

export function convertBertToGguf(options: ConvertBertOptions): ConvertedModel {
  const pipeline = readSentenceTransformersPipeline(options.modelDir);
  const configPath = join(pipeline.transformerDir, "config.json");
  const hp = readBertConfig(configPath);
  if (pipeline.poolingDimension !== hp.hiddenSize) {
    throw new ModelConversionError(configPath, `hidden_size ${hp.hiddenSize} differs from the pooling's word_embedding_dimension ${pipeline.poolingDimension}`);
  }
  const vocab = readWordPieceVocabulary(pipeline.transformerDir, pipeline.lowercaseInput);
  if (vocab.tokens.length !== hp.vocabSize) {
    throw new ModelConversionError(configPath, `vocab_size ${hp.vocabSize} differs from vocab.txt's ${vocab.tokens.length} tokens`);
  }

  const tensors = readTensors(join(pipeline.transformerDir, "model.safetensors"), hp);
  const gguf = encodeGguf({ metadata: metadata(options, hp, vocab, pipeline.pooling), tensors });
  if (options.outputPath) writeAtomically(options.outputPath, gguf);
  return {
    gguf,
    sha256: createHash("sha256").update(gguf).digest("hex"),
    pooling: pipeline.pooling,
    normalize: pipeline.normalize,
    embeddingLength: hp.hiddenSize,
    contextLength: hp.maxPositions,
    maxSequenceLength: pipeline.maxSequenceLength,
  };
}

function readBertConfig(path: string): BertHyperParameters {
  const config = readJson(path);
  if (!isRecord(config)) throw new ModelConversionError(path, "is not a JSON object");
  const refuse = (reason: string) => new ModelConversionError(path, reason);
  const architectures = config.architectures;
  if (!Array.isArray(architectures) || !architectures.includes("BertModel") || config.model_type !== "bert") {
    throw refuse(`architectures ${JSON.stringify(architectures)} / model_type ${JSON.stringify(config.model_type)} is not a BertModel`);
  }
  // Absent settings take BertConfig's defaults, as transformers would. HF BERT's "gelu" is the erf form and
  // llama.cpp's BERT graph computes the tanh form, close enough; any other activation would be computed wrongly.
  if ((config.hidden_act ?? "gelu") !== "gelu") throw refuse(`hidden_act ${JSON.stringify(config.hidden_act)} is not gelu`);
  if ((config.position_embedding_type ?? "absolute") !== "absolute") {
    throw refuse(`position_embedding_type ${JSON.stringify(config.position_embedding_type)} is not absolute`);
  }
  if (config.is_decoder === true || config.add_cross_attention === true) throw refuse("is a decoder, not an encoder");

  const integer = (key: string): number => {
    const value = config[key];
    if (!isPositiveInteger(value)) throw refuse(`${key} is not a positive integer`);
    return value;
  };
  const layerNormEpsilon = config.layer_norm_eps ?? 1e-12;
  if (typeof layerNormEpsilon !== "number" || !(layerNormEpsilon > 0)) throw refuse("layer_norm_eps is not a positive number");
  const hp: BertHyperParameters = {
    vocabSize: integer("vocab_size"),
    hiddenSize: integer("hidden_size"),
    layers: integer("num_hidden_layers"),
    heads: integer("num_attention_heads"),
    intermediateSize: integer("intermediate_size"),
    maxPositions: integer("max_position_embeddings"),
    tokenTypes: integer("type_vocab_size"),
    layerNormEpsilon,
  };
  if (hp.hiddenSize % hp.heads !== 0) throw refuse(`num_attention_heads ${hp.heads} does not divide hidden_size ${hp.hiddenSize}`);
  return hp;
}

/** HF BertModel tensor names → llama.cpp's names for MODEL_ARCH.BERT (gguf-py constants / tensor_mapping). */
function tensorMappings(hp: BertHyperParameters): TensorMapping[] {
  const { hiddenSize: h, intermediateSize: ff } = hp;
  const norm = (source: string, target: string): TensorMapping[] => [
    { source: `${source}.weight`, target: `${target}.weight`, shape: [h], matrix: false },
    { source: `${source}.bias`, target: `${target}.bias`, shape: [h], matrix: false },
  ];
  const linear = (source: string, target: string, outputs: number, inputs: number): TensorMapping[] => [
    { source: `${source}.weight`, target: `${target}.weight`, shape: [outputs, inputs], matrix: true },
    { source: `${source}.bias`, target: `${target}.bias`, shape: [outputs], matrix: false },
  ];
  const mappings: TensorMapping[] = [
    { source: "embeddings.word_embeddings.weight", target: "token_embd.weight", shape: [hp.vocabSize, h], matrix: true },
    // Kept F32 like llama.cpp's converter does: they are added to activations, not multiplied.
    { source: "embeddings.token_type_embeddings.weight", target: "token_types.weight", shape: [hp.tokenTypes, h], matrix: false },
    { source: "embeddings.position_embeddings.weight", target: "position_embd.weight", shape: [hp.maxPositions, h], matrix: false },
    ...norm("embeddings.LayerNorm", "token_embd_norm"),
  ];
  for (let i = 0; i < hp.layers; i++) {
    const layer = `encoder.layer.${i}`;
    const block = `blk.${i}`;
    mappings.push(
      ...linear(`${layer}.attention.self.query`, `${block}.attn_q`, h, h),
      ...linear(`${layer}.attention.self.key`, `${block}.attn_k`, h, h),
      ...linear(`${layer}.attention.self.value`, `${block}.attn_v`, h, h),
      ...linear(`${layer}.attention.output.dense`, `${block}.attn_output`, h, h),
      ...norm(`${layer}.attention.output.LayerNorm`, `${block}.attn_output_norm`),
      ...linear(`${layer}.intermediate.dense`, `${block}.ffn_up`, ff, h),
      ...linear(`${layer}.output.dense`, `${block}.ffn_down`, h, ff),
      ...norm(`${layer}.output.LayerNorm`, `${block}.layer_output_norm`),
    );
  }
  return mappings;
}

/** Checkpoints saved from BertFor* models prefix names with "bert."; old ones call LayerNorm's parameters gamma/beta. */
function canonicalTensorName(name: string): string {
  return name.replace(/^bert\./, "").replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
}

function readTensors(path: string, hp: BertHyperParameters): GgufTensorToWrite[] {
  let file: SafetensorsFile;
  try {
    file = SafetensorsFile.open(path);
  } catch (error) {
    throw asConversionError(path, error);
  }
  try {
    const byCanonicalName = new Map<string, string>();
    for (const name of file.tensors.keys()) {
      const canonical = canonicalTensorName(name);
      if (byCanonicalName.has(canonical)) throw new ModelConversionError(path, `tensors ${byCanonicalName.get(canonical)} and ${name} are the same parameter`);
      byCanonicalName.set(canonical, name);
    }
    const mappings = tensorMappings(hp);
    const expected = new Set(mappings.map((m) => m.source));
    for (const [canonical, name] of byCanonicalName) {
      if (!expected.has(canonical) && !DROPPED_TENSORS.has(canonical)) {
        throw new ModelConversionError(path, `unexpected tensor ${name}: not part of a BertModel this converter maps`);
      }
    }
    return mappings.map((mapping) => {
      const name = byCanonicalName.get(mapping.source);
      if (name === undefined) throw new ModelConversionError(path, `tensor ${mapping.source} is missing`);
      return convertTensor(path, file, name, mapping);
    });
  } catch (error) {
    throw asConversionError(path, error);
  } finally {
    file.close();
  }
}

function convertTensor(path: string, file: SafetensorsFile, name: string, mapping: TensorMapping): GgufTensorToWrite {
  const shape = file.tensors.get(name)!.shape;
  if (shape.length !== mapping.shape.length || shape.some((d, i) => d !== mapping.shape[i])) {
    throw new ModelConversionError(path, `tensor ${name} has shape [${shape.join(", ")}], expected [${mapping.shape.join(", ")}]`);
  }
  const values = file.readFloat32(name);
  // ggml lists dimensions fastest-varying first, the reverse of PyTorch's order; the bytes stay row-major as they are.
  const dims = [...shape].reverse();
  if (!mapping.matrix) {
    if (!values.every(Number.isFinite)) throw new ModelConversionError(path, `tensor ${name} holds a non-finite value`);
    return { name: mapping.target, dims, type: GgmlType.F32, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  }
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const bits = float16Bits(values[i]!);
    // An all-ones exponent is infinity or NaN: a weight F16 cannot hold, or one that was never finite.
    if ((bits & 0x7c00) === 0x7c00) throw new ModelConversionError(path, `tensor ${name} holds ${values[i]}, which F16 cannot represent`);
    halves[i] = bits;
  }
  return { name: mapping.target, dims, type: GgmlType.F16, data: new Uint8Array(halves.buffer) };
}

function asConversionError(path: string, error: unknown): Error {
  if (error instanceof SafetensorsFormatError) return new ModelConversionError(path, error.reason, { cause: error });
  return error as Error;
}

const string = (value: string): GgufMetadataEntry => ({ type: GgufValueType.STRING, value });
const u32 = (value: number): GgufMetadataEntry => ({ type: GgufValueType.UINT32, value });
const bool = (value: boolean): GgufMetadataEntry => ({ type: GgufValueType.BOOL, value });

/**
 * The keys llama.cpp reads for a BERT model. Notes on its BERT path:
 * - the WPM tokenizer prepends tokenizer.ggml.bos_token_id and appends seperator_token_id (llama.cpp's spelling),
 *   whatever add_bos/add_eos say; its defaults (101, 102) only fit bert-base's vocabulary, so both are written;
 * - tokenizer.ggml.pre is read for BPE vocabularies only; WPM has one pre-tokenizer (BERT's), so it is left out;
 * - token types count must be present (the loader refuses a BERT model without it); llama.cpp adds row 0 of
 *   token_types ("sentence A") to every token.
 */
function metadata(options: ConvertBertOptions, hp: BertHyperParameters, vocab: WordPieceVocabulary, pooling: Pooling): Array<[string, GgufMetadataEntry]> {
  const optional = (key: string, entry: GgufMetadataEntry | undefined): Array<[string, GgufMetadataEntry]> => (entry ? [[key, entry]] : []);
  return [
    ["general.architecture", string("bert")],
    ["general.type", string("model")],
    ["general.name", string(options.name)],
    ...optional("general.license", options.license ? string(options.license) : undefined),
    ["general.file_type", u32(1)], // LLAMA_FTYPE_MOSTLY_F16
    ["bert.context_length", u32(hp.maxPositions)],
    ["bert.embedding_length", u32(hp.hiddenSize)],
    ["bert.feed_forward_length", u32(hp.intermediateSize)],
    ["bert.block_count", u32(hp.layers)],
    ["bert.attention.head_count", u32(hp.heads)],
    ["bert.attention.layer_norm_epsilon", { type: GgufValueType.FLOAT32, value: hp.layerNormEpsilon }],
    ["bert.attention.causal", bool(false)],
    ["bert.pooling_type", u32(PoolingType[pooling])],
    ["tokenizer.ggml.model", string("bert")],
    ["tokenizer.ggml.tokens", { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.tokens }],
    ["tokenizer.ggml.token_type", { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: vocab.tokenTypes }],
    ["tokenizer.ggml.token_type_count", u32(hp.tokenTypes)],
    ["tokenizer.ggml.bos_token_id", u32(vocab.cls)],
    ["tokenizer.ggml.eos_token_id", u32(vocab.sep)],
    ["tokenizer.ggml.unknown_token_id", u32(vocab.unk)],
    ["tokenizer.ggml.seperator_token_id", u32(vocab.sep)],
    ["tokenizer.ggml.padding_token_id", u32(vocab.pad)],
    ["tokenizer.ggml.cls_token_id", u32(vocab.cls)],
    ...optional("tokenizer.ggml.mask_token_id", vocab.mask === undefined ? undefined : u32(vocab.mask)),
    ["tokenizer.ggml.add_bos_token", bool(true)],
    ["tokenizer.ggml.add_eos_token", bool(true)],
    ["tokenizer.ggml.normalizer.lowercase", bool(vocab.lowercase)],
    ["tokenizer.ggml.normalizer.strip_accents", bool(vocab.stripAccents)],
  ];
}

/** Writes beside the target and renames, so a failed write never leaves a partial model under the final name. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
