import { GGML_TYPE_LAYOUT, GgufValueType } from "./format.js";
import { metadataArrayLength, metadataNumber, metadataString, type GgufHeader } from "./reader.js";

/**
 * Architectures whose llama.cpp loader asserts (aborting the whole process) when these hyper-parameters are
 * missing. Checking them here turns that abort into a refusal with a reason.
 */
const ATTENTION_ARCHITECTURES = new Set([
  "llama", "mistral", "mistral3", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "gemma", "gemma2", "gemma3", "phi2", "phi3",
  "granite", "olmo", "olmo2", "starcoder2", "stablelm", "internlm2", "deepseek", "deepseek2", "falcon", "gpt2",
  "bert", "nomic-bert", "command-r", "cohere2", "exaone", "minicpm", "smollm3",
]);

function hasNumberOrArray(header: GgufHeader, key: string): boolean {
  const e = header.metadata.get(key);
  if (!e) return false;
  if (e.type === GgufValueType.ARRAY) return e.value.length > 0 && e.value.every((v) => typeof v === "number" || typeof v === "bigint");
  return e.type !== GgufValueType.STRING && e.type !== GgufValueType.BOOL;
}

/**
 * Lists every reason llama.cpp would refuse or crash on this header, as `key: reason` strings; empty means the
 * header is consistent. It cannot prove a file loads (the child process that loads models covers the rest).
 */
export function findGgufProblems(header: GgufHeader): string[] {
  const problems: string[] = [];
  const arch = metadataString(header, "general.architecture");
  if (!arch) {
    problems.push("general.architecture: missing");
    return problems;
  }
  if (metadataString(header, "general.type") === "adapter") {
    problems.push("general.type: this file is an adapter, not a model");
  }
  const required = [`${arch}.context_length`, `${arch}.embedding_length`, `${arch}.block_count`];
  if (ATTENTION_ARCHITECTURES.has(arch)) required.push(`${arch}.feed_forward_length`, `${arch}.attention.head_count`);
  for (const key of required) {
    if (!hasNumberOrArray(header, key)) problems.push(`${key}: missing or not a number`);
  }
  const embedding = metadataNumber(header, `${arch}.embedding_length`);
  const heads = metadataNumber(header, `${arch}.attention.head_count`);
  if (embedding !== undefined && embedding <= 0) problems.push(`${arch}.embedding_length: must be positive`);
  if (heads !== undefined && (heads <= 0 || (embedding !== undefined && embedding % heads !== 0))) {
    problems.push(`${arch}.attention.head_count: ${heads} does not divide embedding_length ${embedding}`);
  }
  if (!metadataString(header, "tokenizer.ggml.model")) problems.push("tokenizer.ggml.model: missing");
  if (!metadataArrayLength(header, "tokenizer.ggml.tokens")) problems.push("tokenizer.ggml.tokens: missing or empty");
  if (header.tensors.length === 0) problems.push("tensors: the file holds none");
  problems.push(...findTensorLayoutProblems(header));
  return problems;
}

/** Tensors of an unknown type, misaligned, or whose data would run past the end of the file (models and adapters). */
export function findTensorLayoutProblems(header: GgufHeader): string[] {
  const problems: string[] = [];
  const alignment = BigInt(metadataNumber(header, "general.alignment") ?? 32);
  for (const tensor of header.tensors) {
    const layout = GGML_TYPE_LAYOUT[tensor.type];
    if (!layout) {
      problems.push(`tensor ${tensor.name}: unknown ggml type ${tensor.type}`);
      continue;
    }
    const rowLength = tensor.dims[0] ?? 0;
    if (rowLength % layout.blockSize !== 0) {
      problems.push(`tensor ${tensor.name}: row length ${rowLength} is not a multiple of the type's block size ${layout.blockSize}`);
      continue;
    }
    const elements = tensor.dims.reduce((n, d) => n * BigInt(d), 1n);
    const bytes = (elements / BigInt(layout.blockSize)) * BigInt(layout.bytesPerBlock);
    if (tensor.offset % alignment !== 0n) problems.push(`tensor ${tensor.name}: offset ${tensor.offset} is not aligned to ${alignment}`);
    if (header.dataOffset + tensor.offset + bytes > header.fileSize) {
      problems.push(`tensor ${tensor.name}: data ends past the end of the file (truncated file?)`);
    }
  }
  return problems;
}
