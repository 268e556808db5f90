import { readSync } from "node:fs";
import { float16Value } from "./float16.js";
import { GgmlType, GGML_TYPE_LAYOUT, type GgufTensorInfo } from "./format.js";
import type { GgufHeader } from "./reader.js";

/**
 * Reads tensor values out of a GGUF file as float32, for the few tensors adapter fitting needs (one block's
 * feed-forward matrices, a handful of output rows). Only the simple block formats are decoded — F32, F16, Q4_0,
 * Q4_1, Q8_0 — which covers the generated test models and SmolLM2's Q4_1; a K-quant tensor is refused by name.
 */

export class TensorDataError extends Error {
  override readonly name = "TensorDataError";
}

const DECODABLE: ReadonlySet<number> = new Set([GgmlType.F32, GgmlType.F16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0]);

export function findTensor(header: GgufHeader, name: string): GgufTensorInfo {
  const tensor = header.tensors.find((t) => t.name === name);
  if (!tensor) throw new TensorDataError(`the model has no tensor ${name}`);
  return tensor;
}

export function canDecode(tensor: GgufTensorInfo): boolean {
  return DECODABLE.has(tensor.type);
}

/** Bytes one row (dims[0] values) of the tensor takes in the file. */
function rowBytes(tensor: GgufTensorInfo): number {
  const layout = GGML_TYPE_LAYOUT[tensor.type];
  if (!layout) throw new TensorDataError(`tensor ${tensor.name} has unknown ggml type ${tensor.type}`);
  return (tensor.dims[0]! / layout.blockSize) * layout.bytesPerBlock;
}

/** Decodes one row of `length` values from `bytes` into `out` at `at`. */
function decodeRow(type: number, bytes: Buffer, length: number, out: Float32Array, at: number): void {
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < length; i++) out[at + i] = bytes.readFloatLE(i * 4);
      return;
    case GgmlType.F16:
      for (let i = 0; i < length; i++) out[at + i] = float16Value(bytes.readUInt16LE(i * 2));
      return;
    case GgmlType.Q4_0: // per 32 values: f16 scale, 16 bytes of nibbles (low nibbles first half, high second), offset 8
      for (let block = 0; block < length / 32; block++) {
        const base = block * 18;
        const d = float16Value(bytes.readUInt16LE(base));
        for (let j = 0; j < 16; j++) {
          const q = bytes[base + 2 + j]!;
          out[at + block * 32 + j] = ((q & 0x0f) - 8) * d;
          out[at + block * 32 + j + 16] = ((q >> 4) - 8) * d;
        }
      }
      return;
    case GgmlType.Q4_1: // per 32 values: f16 scale, f16 minimum, 16 bytes of nibbles
      for (let block = 0; block < length / 32; block++) {
        const base = block * 20;
        const d = float16Value(bytes.readUInt16LE(base));
        const m = float16Value(bytes.readUInt16LE(base + 2));
        for (let j = 0; j < 16; j++) {
          const q = bytes[base + 4 + j]!;
          out[at + block * 32 + j] = (q & 0x0f) * d + m;
          out[at + block * 32 + j + 16] = (q >> 4) * d + m;
        }
      }
      return;
    case GgmlType.Q8_0: // per 32 values: f16 scale, 32 signed bytes
      for (let block = 0; block < length / 32; block++) {
        const base = block * 34;
        const d = float16Value(bytes.readUInt16LE(base));
        for (let j = 0; j < 32; j++) out[at + block * 32 + j] = bytes.readInt8(base + 2 + j) * d;
      }
      return;
    default:
      throw new TensorDataError(`ggml type ${type} is not decoded here`);
  }
}

/**
 * The rows `rows` (indexes along dims[1]) of a 1- or 2-dimensional tensor, each dims[0] values long, one after the
 * other; all rows when `rows` is absent.
 */
export function readTensorRows(fd: number, header: GgufHeader, tensor: GgufTensorInfo, rows?: readonly number[]): Float32Array {
  if (!canDecode(tensor)) throw new TensorDataError(`tensor ${tensor.name} is of ggml type ${tensor.type}, which adapter fitting does not decode (F32, F16, Q4_0, Q4_1 and Q8_0 only)`);
  if (tensor.dims.length > 2) throw new TensorDataError(`tensor ${tensor.name} has ${tensor.dims.length} dimensions`);
  const length = tensor.dims[0]!;
  const rowCount = tensor.dims[1] ?? 1;
  const wanted = rows ?? Array.from({ length: rowCount }, (_, i) => i);
  const size = rowBytes(tensor);
  const start = Number(header.dataOffset + tensor.offset);
  const out = new Float32Array(wanted.length * length);
  const buffer = Buffer.alloc(size);
  wanted.forEach((row, i) => {
    if (!Number.isInteger(row) || row < 0 || row >= rowCount) throw new TensorDataError(`row ${row} is outside tensor ${tensor.name} (${rowCount} rows)`);
    if (readSync(fd, buffer, 0, size, start + row * size) !== size) throw new TensorDataError(`tensor ${tensor.name} is cut short`);
    decodeRow(tensor.type, buffer, length, out, i * length);
  });
  return out;
}
