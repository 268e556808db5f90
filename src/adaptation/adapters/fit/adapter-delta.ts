import { summariseLoraHeader } from "../../../models/adapters/lora-gguf.js";
import type { GgufHeader } from "../../../models/gguf/reader.js";
import { canDecode, findTensor, readTensorRows } from "../../../models/gguf/tensor-data.js";
import type { LastBlock } from "./last-block.js";

/**
 * What an existing adapter adds to the final residual, computed in JavaScript, so that a fit can compare itself
 * with the adapter in service on the same held-back examples without running the model again. Only an adapter
 * whose one pair adapts the last ffn_down (a fitted one) can be computed so; for any other the comparison is
 * refused with the reason.
 */
export type AdapterDelta =
  | { comparable: true; apply(u: Float32Array, out: Float64Array): void }
  | { comparable: false; reason: string };

export function adapterDelta(fd: number, header: GgufHeader, block: LastBlock, scale: number): AdapterDelta {
  const summary = summariseLoraHeader(header);
  const targets = [...summary.pairs.keys()];
  if (targets.length !== 1 || targets[0] !== block.target) {
    return { comparable: false, reason: `it adapts ${targets.join(", ") || "nothing"}, not only ${block.target}` };
  }
  const a = findTensor(header, `${block.target}.lora_a`);
  const b = findTensor(header, `${block.target}.lora_b`);
  const rank = a.dims[1]!;
  if (a.dims[0] !== block.feedForwardLength || b.dims[0] !== rank || b.dims[1] !== block.embeddingLength) {
    return { comparable: false, reason: `its pair's shapes (${a.dims.join("×")}, ${b.dims.join("×")}) do not fit ${block.target}` };
  }
  if (!canDecode(a) || !canDecode(b)) return { comparable: false, reason: "its tensors are of a type fitting does not read" };
  const aRows = readTensorRows(fd, header, a);
  const bRows = readTensorRows(fd, header, b);
  // llama.cpp's factor: scale · alpha / rank, or scale alone when alpha is 0 or absent.
  const factor = summary.alpha ? (scale * summary.alpha) / rank : scale;
  const f = block.feedForwardLength;
  const e = block.embeddingLength;
  const inner = new Float64Array(rank);
  return {
    comparable: true,
    apply(u, out) {
      for (let r = 0; r < rank; r++) {
        let s = 0;
        for (let i = 0; i < f; i++) s += aRows[r * f + i]! * u[i]!;
        inner[r] = s * factor;
      }
      for (let j = 0; j < e; j++) {
        let s = 0;
        for (let r = 0; r < rank; r++) s += bRows[j * rank + r]! * inner[r]!;
        out[j] = s;
      }
    },
  };
}
