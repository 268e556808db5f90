import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgufValueType,
  type GgufMetadataEntry,
  type GgufScalar,
} from "./format.js";

export interface GgufTensorToWrite {
  name: string;
  /** ggml order: fastest-varying dimension first. */
  dims: number[];
  type: number;
  data: Uint8Array;
}

export interface GgufDocument {
  metadata: ReadonlyArray<readonly [string, GgufMetadataEntry]>;
  tensors: ReadonlyArray<GgufTensorToWrite>;
}

/** Growable little-endian byte sink for the header, metadata and tensor infos. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = Buffer.alloc(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  u8(v: number): void { this.reserve(1); this.buffer.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number): void { this.reserve(1); this.buffer.writeInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.reserve(2); this.buffer.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number): void { this.reserve(2); this.buffer.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number): void { this.reserve(4); this.buffer.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number): void { this.reserve(4); this.buffer.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.reserve(4); this.buffer.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number): void { this.reserve(8); this.buffer.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: number | bigint): void { this.reserve(8); this.buffer.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: number | bigint): void { this.reserve(8); this.buffer.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buffer.set(b, this.length); this.length += b.length; }
  string(s: string): void { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.bytes(b); }
  padTo(alignment: number): void { const pad = (alignment - (this.length % alignment)) % alignment; this.reserve(pad); this.buffer.fill(0, this.length, this.length + pad); this.length += pad; }
  toBuffer(): Buffer { return this.buffer.subarray(0, this.length); }
}

function writeScalar(sink: ByteSink, type: GgufValueType, value: GgufScalar): void {
  switch (type) {
    case GgufValueType.UINT8: return sink.u8(Number(value));
    case GgufValueType.INT8: return sink.i8(Number(value));
    case GgufValueType.UINT16: return sink.u16(Number(value));
    case GgufValueType.INT16: return sink.i16(Number(value));
    case GgufValueType.UINT32: return sink.u32(Number(value));
    case GgufValueType.INT32: return sink.i32(Number(value));
    case GgufValueType.FLOAT32: return sink.f32(Number(value));
    case GgufValueType.FLOAT64: return sink.f64(Number(value));
    case GgufValueType.UINT64: return sink.u64(value as number | bigint);
    case GgufValueType.INT64: return sink.i64(value as number | bigint);
    case GgufValueType.BOOL: return sink.u8(value ? 1 : 0);
    case GgufValueType.STRING: return sink.string(String(value));
    default: throw new Error(`GGUF value type ${type} cannot be written as a scalar`);
  }
}

/** Serialises a GGUF v3 file: header, metadata, tensor infos, then 32-byte-aligned tensor data. */
export function encodeGguf(doc: GgufDocument): Buffer {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(doc.tensors.length);
  sink.u64(doc.metadata.length);

  for (const [key, entry] of doc.metadata) {
    sink.string(key);
    sink.u32(entry.type);
    if (entry.type === GgufValueType.ARRAY) {
      sink.u32(entry.itemType);
      sink.u64(entry.value.length);
      for (const item of entry.value) writeScalar(sink, entry.itemType, item);
    } else {
      writeScalar(sink, entry.type, entry.value);
    }
  }

  let offset = 0;
  const tensorOffsets: number[] = [];
  for (const tensor of doc.tensors) {
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const d of tensor.dims) sink.u64(d);
    sink.u32(tensor.type);
    sink.u64(offset);
    tensorOffsets.push(offset);
    offset = alignUp(offset + tensor.data.length);
  }
  sink.padTo(GGUF_DEFAULT_ALIGNMENT);

  // Tensor data dwarfs the header (tens of MB for a converted model): copy it once into a buffer of the exact
  // size rather than through the growable sink. Buffer.alloc zero-fills, which is the padding.
  const header = sink.toBuffer();
  const file = Buffer.alloc(header.length + offset);
  header.copy(file, 0);
  doc.tensors.forEach((tensor, i) => file.set(tensor.data, header.length + tensorOffsets[i]!));
  return file;
}

function alignUp(n: number): number {
  return Math.ceil(n / GGUF_DEFAULT_ALIGNMENT) * GGUF_DEFAULT_ALIGNMENT;
}
