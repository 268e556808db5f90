import { GGML_TYPE_LAYOUT } from "../../../models/gguf/format.js";
import { metadataNumber, metadataString, type GgufHeader } from "../../../models/gguf/reader.js";
import { canDecode, findTensor, readTensorRows } from "../../../models/gguf/tensor-data.js";

/**
 * The last step of a llama-architecture model, in JavaScript: what adapter fitting needs to know about the
 * computation between the last block's feed-forward input and the label tokens' logits.
 *
 *   n = ffn_norm(x_mid)                  the last block's feed-forward input (RMS-normed residual)
 *   u = silu(W_gate n) ⊙ (W_up n)        its activation (n_ff values)
 *   x = x_mid + W_down u                 the final residual
 *   logits = W_out · output_norm(x)      (W_out is token_embd.weight when the model has no output.weight)
 *
 * A LoRA pair on the last ffn_down adds B(A u) to x, and affects nothing else: no later position reads the last
 * block's feed-forward output. That is why fitted adapters target it — a tied model (SmolLM2, Gemma 3) has no
 * output.weight for an adapter to name, and an adapter on token_embd.weight aborts llama.cpp when the output
 * projection reuses it (measured: GGML_ASSERT(ggml_can_mul_mat) in the first evaluation).
 */

export class UnsupportedModelError extends Error {
  override readonly name = "UnsupportedModelError";
}

export interface LastBlock {
  layer: number;
  embeddingLength: number;
  feedForwardLength: number;
  epsilon: number;
  /** n_ff rows of n_embd. */
  gate: Float32Array;
  up: Float32Array;
  /** n_embd rows of n_ff. */
  down: Float32Array;
  ffnNorm: Float32Array;
  outputNorm: Float32Array;
  /** The tensor a fitted adapter adapts. */
  target: string;
}

/** Tensors whose presence means the last step is not the plain one above (biases, post-norms, experts). */
const DISQUALIFYING = ["ffn_gate.bias", "ffn_up.bias", "ffn_down.bias", "post_ffw_norm.weight", "ffn_gate_inp.weight", "ffn_down_exps.weight"];

/** Reads and checks the last block; refuses, with the reason, a model whose last step differs from the above. */
export function readLastBlock(fd: number, header: GgufHeader): LastBlock {
  const arch = metadataString(header, "general.architecture");
  if (arch !== "llama") {
    throw new UnsupportedModelError(`adapter fitting supports llama-architecture models (their last feed-forward output reaches the output norm unchanged); this one is ${arch ?? "of no declared architecture"}`);
  }
  const layers = metadataNumber(header, "llama.block_count");
  const epsilon = metadataNumber(header, "llama.attention.layer_norm_rms_epsilon");
  if (layers === undefined || layers < 1 || epsilon === undefined) throw new UnsupportedModelError("the model declares no block count or RMS epsilon");
  const layer = layers - 1;
  const name = (suffix: string) => `blk.${layer}.${suffix}`;
  for (const suffix of DISQUALIFYING) {
    if (header.tensors.some((t) => t.name === name(suffix))) throw new UnsupportedModelError(`the last block has ${name(suffix)}, which fitting does not model`);
  }
  const tensors = {
    gate: findTensor(header, name("ffn_gate.weight")),
    up: findTensor(header, name("ffn_up.weight")),
    down: findTensor(header, name("ffn_down.weight")),
    ffnNorm: findTensor(header, name("ffn_norm.weight")),
    outputNorm: findTensor(header, "output_norm.weight"),
  };
  for (const tensor of Object.values(tensors)) {
    if (!canDecode(tensor)) throw new UnsupportedModelError(`${tensor.name} is of ggml type ${tensor.type}; fitting reads F32, F16, Q4_0, Q4_1 and Q8_0 tensors only`);
  }
  const [embeddingLength, feedForwardLength] = tensors.gate.dims as [number, number];
  return {
    layer,
    embeddingLength,
    feedForwardLength,
    epsilon,
    gate: readTensorRows(fd, header, tensors.gate),
    up: readTensorRows(fd, header, tensors.up),
    down: readTensorRows(fd, header, tensors.down),
    ffnNorm: readTensorRows(fd, header, tensors.ffnNorm),
    outputNorm: readTensorRows(fd, header, tensors.outputNorm),
    target: tensors.down.name,
  };
}

/** The output projection's rows for `tokens` (output.weight, or token_embd.weight in a tied model), each n_embd long. */
export function readOutputRows(fd: number, header: GgufHeader, tokens: readonly number[]): Float32Array {
  const output = header.tensors.find((t) => t.name === "output.weight") ?? findTensor(header, "token_embd.weight");
  if (!canDecode(output)) throw new UnsupportedModelError(`${output.name} is of ggml type ${output.type}; fitting reads F32, F16, Q4_0, Q4_1 and Q8_0 tensors only`);
  return readTensorRows(fd, header, output, tokens);
}

/**
 * Rewrites the base model's bytes, in place, into a feature model: the last ffn_down zeroed and output_norm.weight
 * replaced by the last block's ffn_norm.weight. Its "embedding" (llama.cpp's normed final state at the last token)
 * is then exactly the last block's feed-forward input n, which no public node-llama-cpp call returns otherwise.
 */
export function toFeatureModel(bytes: Buffer, header: GgufHeader, block: LastBlock): Buffer {
  const at = (name: string) => Number(header.dataOffset + findTensor(header, name).offset);
  const down = findTensor(header, block.target);
  const downStart = at(down.name);
  bytes.fill(0, downStart, downStart + byteLength(down.dims, down.type));
  const norm = findTensor(header, `blk.${block.layer}.ffn_norm.weight`);
  const outputNorm = findTensor(header, "output_norm.weight");
  if (norm.type !== outputNorm.type || norm.dims[0] !== outputNorm.dims[0]) throw new UnsupportedModelError("ffn_norm and output_norm differ in type or length");
  const normStart = at(norm.name);
  bytes.copy(bytes, at(outputNorm.name), normStart, normStart + byteLength(norm.dims, norm.type));
  return bytes;
}

/** Zero bytes decode to zero in every block format (each block's scale is zero), so only the length matters. */
function byteLength(dims: readonly number[], type: number): number {
  const layout = GGML_TYPE_LAYOUT[type];
  if (!layout) throw new UnsupportedModelError(`ggml type ${type} is unknown`);
  return (dims.reduce((a, b) => a * b, 1) / layout.blockSize) * layout.bytesPerBlock;
}

/** u = silu(W_gate n) ⊙ (W_up n). */
export function feedForwardActivation(block: LastBlock, ffnInput: ArrayLike<number>): Float32Array {
  const { embeddingLength: e, feedForwardLength: f, gate, up } = block;
  const u = new Float32Array(f);
  for (let i = 0; i < f; i++) {
    let g = 0;
    let v = 0;
    const row = i * e;
    for (let k = 0; k < e; k++) {
      const x = ffnInput[k]!;
      g += gate[row + k]! * x;
      v += up[row + k]! * x;
    }
    u[i] = (g / (1 + Math.exp(-g))) * v;
  }
  return u;
}

/**
 * The final residual x, unnormalised, from what llama.cpp reports normalised: the base model's final state
 * (g_out ⊙ x/rms(x)) and the feature model's (g_ffn ⊙ x_mid/rms(x_mid)), related by x = x_mid + W_down u. The two
 * unknown scales come from least squares over the n_embd coordinates; `mismatch` is the relative residual
 * (about 1 % on SmolLM2, from llama.cpp quantising activations), a check that both passes saw the same prompt.
 */
export function finalResidual(block: LastBlock, finalNormed: ArrayLike<number>, ffnInput: ArrayLike<number>, u: Float32Array): { x: Float64Array; mismatch: number } {
  const { embeddingLength: e, feedForwardLength: f, down, outputNorm, ffnNorm } = block;
  const xHat = new Float64Array(e);
  const midHat = new Float64Array(e);
  const out = new Float64Array(e);
  for (let j = 0; j < e; j++) {
    xHat[j] = finalNormed[j]! / outputNorm[j]!;
    midHat[j] = ffnInput[j]! / ffnNorm[j]!;
    let s = 0;
    const row = j * f;
    for (let i = 0; i < f; i++) s += down[row + i]! * u[i]!;
    out[j] = s;
  }
  // Solve c·xHat − ρ·midHat ≈ out for c (the final residual's RMS) and ρ (the mid residual's).
  let a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
  for (let j = 0; j < e; j++) {
    a11 += xHat[j]! * xHat[j]!;
    a12 -= xHat[j]! * midHat[j]!;
    a22 += midHat[j]! * midHat[j]!;
    b1 += xHat[j]! * out[j]!;
    b2 -= midHat[j]! * out[j]!;
  }
  const det = a11 * a22 - a12 * a12;
  const c = (b1 * a22 - a12 * b2) / det;
  const rho = (a11 * b2 - a12 * b1) / det;
  let residual = 0;
  let total = 0;
  const x = new Float64Array(e);
  for (let j = 0; j < e; j++) {
    x[j] = c * xHat[j]!;
    const r = x[j]! - rho * midHat[j]! - out[j]!;
    residual += r * r;
    total += x[j]! * x[j]!;
  }
  return { x, mismatch: Math.sqrt(residual / total) };
}
