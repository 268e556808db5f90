import { join } from "node:path";
import { isPositiveInteger, isRecord, ModelConversionError, readJson, readOptionalJson } from "./checkpoint-files.js";

/** llama.cpp's pooling types (bert.pooling_type) for the two poolings a BERT embedding model can express. */
export const PoolingType = { mean: 1, cls: 2 } as const;
export type Pooling = keyof typeof PoolingType;

/** What a sentence-transformers folder asks for around the transformer itself. */
export interface SentenceTransformersPipeline {
  /** Folder of the Transformer module (config.json, weights, vocabulary); usually the model folder itself. */
  transformerDir: string;
  pooling: Pooling;
  /** The pipeline ends with a Normalize module: its vectors are L2-normalised after pooling. */
  normalize: boolean;
  /** sentence_bert_config.json's max_seq_length: longer inputs are truncated by sentence-transformers. */
  maxSequenceLength: number | undefined;
  /** sentence_bert_config.json's do_lower_case: the text is lowercased before tokenizing. */
  lowercaseInput: boolean;
  /** The pooling module's word_embedding_dimension, to check against the transformer's hidden size. */
  poolingDimension: number;
}

const TRANSFORMER = "sentence_transformers.models.Transformer";
const POOLING = "sentence_transformers.models.Pooling";
const NORMALIZE = "sentence_transformers.models.Normalize";

/** Pooling flags that would change the vector; any of them set is a pooling llama.cpp's BERT graph lacks. */
const UNSUPPORTED_POOLING_FLAGS = [
  "pooling_mode_max_tokens",
  "pooling_mode_mean_sqrt_len_tokens",
  "pooling_mode_weightedmean_tokens",
  "pooling_mode_lasttoken",
];

/**
 * Reads modules.json and the pooling config. Only the pipeline Transformer → Pooling (mean or CLS) → optional
 * Normalize is accepted: a Dense projection, a second pooling or any other module would be silently lost in GGUF.
 */
export function readSentenceTransformersPipeline(modelDir: string): SentenceTransformersPipeline {
  const modulesPath = join(modelDir, "modules.json");
  const modules = readJson(modulesPath);
  if (!Array.isArray(modules) || !modules.every((m) => isRecord(m) && typeof m.type === "string" && typeof m.path === "string")) {
    throw new ModelConversionError(modulesPath, "is not a list of { type, path } modules");
  }
  const types = modules.map((m) => m.type as string);
  const expected = [TRANSFORMER, POOLING, ...(types.length === 3 ? [NORMALIZE] : [])];
  if (types.length !== expected.length || types.some((type, i) => type !== expected[i])) {
    throw new ModelConversionError(modulesPath, `modules ${types.join(" → ")} are not Transformer → Pooling → (Normalize), the only pipeline this converter expresses`);
  }
  const transformerDir = join(modelDir, modules[0].path as string);
  const poolingPath = join(modelDir, modules[1].path as string, "config.json");

  const settingsPath = join(transformerDir, "sentence_bert_config.json");
  const settings = readOptionalJson(settingsPath) ?? {};
  if (!isRecord(settings)) throw new ModelConversionError(settingsPath, "is not a JSON object");
  const maxSequenceLength = settings.max_seq_length;
  if (maxSequenceLength !== undefined && maxSequenceLength !== null && !isPositiveInteger(maxSequenceLength)) {
    throw new ModelConversionError(settingsPath, "max_seq_length is not a positive integer");
  }

  const { pooling, dimension } = readPooling(poolingPath);
  return {
    transformerDir,
    pooling,
    normalize: types.length === 3,
    maxSequenceLength: maxSequenceLength ?? undefined,
    lowercaseInput: settings.do_lower_case === true,
    poolingDimension: dimension,
  };
}

function readPooling(path: string): { pooling: Pooling; dimension: number } {
  const config = readJson(path);
  if (!isRecord(config)) throw new ModelConversionError(path, "is not a JSON object");
  if (!isPositiveInteger(config.word_embedding_dimension)) throw new ModelConversionError(path, "word_embedding_dimension is not a positive integer");
  if (config.include_prompt === false) {
    throw new ModelConversionError(path, "include_prompt is false (prompt tokens left out of pooling), which llama.cpp cannot express");
  }
  const unsupported = UNSUPPORTED_POOLING_FLAGS.filter((flag) => config[flag] === true);
  const mode = config.pooling_mode;
  if (typeof mode === "string" && mode !== "mean" && mode !== "cls") unsupported.push(`pooling_mode ${mode}`);
  const mean = config.pooling_mode_mean_tokens === true || config.pooling_mode === "mean";
  const cls = config.pooling_mode_cls_token === true || config.pooling_mode === "cls";
  if (unsupported.length > 0 || mean === cls) {
    const asked = [...unsupported, ...(mean ? ["mean"] : []), ...(cls ? ["cls"] : [])];
    throw new ModelConversionError(path, `pooling ${asked.join(" + ") || "(none)"} is not exactly one of mean or cls`);
  }
  return { pooling: mean ? "mean" : "cls", dimension: config.word_embedding_dimension };
}
