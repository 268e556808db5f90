import { GgmlType, GgufValueType, type GgufMetadataEntry } from "../gguf/format.js";
import { metadataNumber, metadataString, type GgufHeader } from "../gguf/reader.js";
import { encodeGguf, type GgufTensorToWrite } from "../gguf/writer.js";

/**
 * LoRA adapters in llama.cpp's GGUF form: `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`,
 * and per adapted weight W (ggml dims [in, out]) a pair `W.lora_a` [in, r] and `W.lora_b` [r, out]. llama.cpp adds
 * scale · alpha / r · B(A x) to W x (alpha 0: scale alone), with `scale` chosen per context.
 */

export interface LoraPair {
  /** The base model tensor adapted, e.g. "blk.29.ffn_down.weight". */
  target: string;
  rank: number;
  /** r rows of `in` values: row i is the input direction of rank component i. */
  a: Float32Array;
  /** `out` rows of r values: row j says how much each rank component adds to output j. */
  b: Float32Array;
  inputs: number;
  outputs: number;
}

export interface LoraAdapterDocument {
  architecture: string;
  /** Written as adapter.lora.alpha; equal to the rank keeps llama.cpp's factor alpha / r at 1. */
  alpha: number;
  pairs: LoraPair[];
  /** Extra string metadata (provenance), under keys the writer chooses. */
  metadata?: ReadonlyArray<readonly [string, string]>;
}

function f32Tensor(name: string, dims: number[], values: Float32Array): GgufTensorToWrite {
  return { name, dims, type: GgmlType.F32, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function encodeLoraAdapter(doc: LoraAdapterDocument): Buffer {
  const metadata: Array<[string, GgufMetadataEntry]> = [
    ["general.architecture", { type: GgufValueType.STRING, value: doc.architecture }],
    ["general.type", { type: GgufValueType.STRING, value: "adapter" }],
    ["adapter.type", { type: GgufValueType.STRING, value: "lora" }],
    ["adapter.lora.alpha", { type: GgufValueType.FLOAT32, value: doc.alpha }],
    ...(doc.metadata ?? []).map(([key, value]): [string, GgufMetadataEntry] => [key, { type: GgufValueType.STRING, value }]),
  ];
  const tensors = doc.pairs.flatMap((pair) => {
    if (pair.a.length !== pair.rank * pair.inputs || pair.b.length !== pair.outputs * pair.rank) {
      throw new RangeError(`LoRA pair for ${pair.target}: A must hold rank × inputs values and B outputs × rank`);
    }
    return [
      f32Tensor(`${pair.target}.lora_a`, [pair.inputs, pair.rank], pair.a),
      f32Tensor(`${pair.target}.lora_b`, [pair.rank, pair.outputs], pair.b),
    ];
  });
  return encodeGguf({ metadata, tensors });
}

/** What a LoRA file declares, read from its header: enough to check it against a base model. */
export interface LoraHeaderSummary {
  architecture: string | undefined;
  generalType: string | undefined;
  adapterType: string | undefined;
  alpha: number | undefined;
  /** Per adapted tensor, the dims of its A and B (either may be missing in a broken file). */
  pairs: Map<string, { a?: number[]; b?: number[] }>;
  /** Tensors that are neither .lora_a nor .lora_b (llama.cpp skips *_norm.weight and refuses the rest). */
  otherTensors: string[];
}

export function summariseLoraHeader(header: GgufHeader): LoraHeaderSummary {
  const pairs = new Map<string, { a?: number[]; b?: number[] }>();
  const otherTensors: string[] = [];
  for (const tensor of header.tensors) {
    const match = /^(.*)\.lora_(a|b)$/.exec(tensor.name);
    if (!match) {
      otherTensors.push(tensor.name);
      continue;
    }
    const pair = pairs.get(match[1]!) ?? {};
    pair[match[2] as "a" | "b"] = tensor.dims;
    pairs.set(match[1]!, pair);
  }
  return {
    architecture: metadataString(header, "general.architecture"),
    generalType: metadataString(header, "general.type"),
    adapterType: metadataString(header, "adapter.type"),
    alpha: metadataNumber(header, "adapter.lora.alpha"),
    pairs,
    otherTensors,
  };
}
