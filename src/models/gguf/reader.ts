import { closeSync, fstatSync, readSync } from "node:fs";
import { openRegularFile } from "../digest.js";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  type GgufMetadataEntry,
  type GgufScalar,
  type GgufTensorInfo,
} from "./format.js";

/** A GGUF file that cannot be parsed; the message says where and why. */
export class GgufFormatError extends Error {
  override readonly name = "GgufFormatError";
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufMetadataEntry>;
  tensors: GgufTensorInfo[];
  /** Absolute file offset where tensor data starts. */
  dataOffset: bigint;
  fileSize: bigint;
}

// Bounds that keep a hostile header from making the reader allocate or loop without end. Real models stay far
// below them: the largest vocabularies are ~260k tokens and chat templates a few tens of KB.
const MAX_STRING_BYTES = 16 * 1024 * 1024;
const MAX_ARRAY_ITEMS = 16 * 1024 * 1024;
const MAX_ENTRIES = 1_000_000;
const MAX_DIMS = 4;
const CHUNK = 1 << 16;

/** Reads forward through a file descriptor in chunks, so a multi-GB model is never read whole to parse its header. */
class ForwardReader {
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;
  position = 0;

  constructor(private readonly fd: number, private readonly size: number) {}

  private ensure(n: number, what: string): Buffer {
    const endInChunk = this.position - this.chunkStart + n;
    if (endInChunk <= this.chunk.length) return this.chunk;
    if (this.position + n > this.size) {
      throw new GgufFormatError(`file ends inside ${what} at byte ${this.position} (needs ${n} more bytes, file has ${this.size})`);
    }
    const length = Math.max(n, CHUNK);
    const buffer = Buffer.alloc(Math.min(length, this.size - this.position));
    const read = readSync(this.fd, buffer, 0, buffer.length, this.position);
    if (read < n) throw new GgufFormatError(`short read inside ${what} at byte ${this.position}`);
    this.chunk = buffer.subarray(0, read);
    this.chunkStart = this.position;
    return this.chunk;
  }

  private at(): number {
    return this.position - this.chunkStart;
  }

  u8(what: string): number { const b = this.ensure(1, what); const v = b.readUInt8(this.at()); this.position += 1; return v; }
  i8(what: string): number { const b = this.ensure(1, what); const v = b.readInt8(this.at()); this.position += 1; return v; }
  u16(what: string): number { const b = this.ensure(2, what); const v = b.readUInt16LE(this.at()); this.position += 2; return v; }
  i16(what: string): number { const b = this.ensure(2, what); const v = b.readInt16LE(this.at()); this.position += 2; return v; }
  u32(what: string): number { const b = this.ensure(4, what); const v = b.readUInt32LE(this.at()); this.position += 4; return v; }
  i32(what: string): number { const b = this.ensure(4, what); const v = b.readInt32LE(this.at()); this.position += 4; return v; }
  f32(what: string): number { const b = this.ensure(4, what); const v = b.readFloatLE(this.at()); this.position += 4; return v; }
  f64(what: string): number { const b = this.ensure(8, what); const v = b.readDoubleLE(this.at()); this.position += 8; return v; }
  u64(what: string): bigint { const b = this.ensure(8, what); const v = b.readBigUInt64LE(this.at()); this.position += 8; return v; }
  i64(what: string): bigint { const b = this.ensure(8, what); const v = b.readBigInt64LE(this.at()); this.position += 8; return v; }

  /** A count or length stored as u64, refused above `max` before anything is allocated for it. */
  count(what: string, max: number): number {
    const v = this.u64(what);
    if (v > BigInt(max)) throw new GgufFormatError(`${what} is ${v}, above the limit of ${max}`);
    return Number(v);
  }

  string(what: string): string {
    const length = this.count(`${what} length`, MAX_STRING_BYTES);
    if (length === 0) return "";
    if (length > CHUNK) {
      const buffer = Buffer.alloc(length);
      if (this.position + length > this.size) throw new GgufFormatError(`file ends inside ${what} at byte ${this.position}`);
      readSync(this.fd, buffer, 0, length, this.position);
      this.position += length;
      return buffer.toString("utf8");
    }
    const b = this.ensure(length, what);
    const s = b.toString("utf8", this.at(), this.at() + length);
    this.position += length;
    return s;
  }
}

function readScalar(r: ForwardReader, type: number, what: string): GgufScalar {
  switch (type) {
    case GgufValueType.UINT8: return r.u8(what);
    case GgufValueType.INT8: return r.i8(what);
    case GgufValueType.UINT16: return r.u16(what);
    case GgufValueType.INT16: return r.i16(what);
    case GgufValueType.UINT32: return r.u32(what);
    case GgufValueType.INT32: return r.i32(what);
    case GgufValueType.FLOAT32: return r.f32(what);
    case GgufValueType.FLOAT64: return r.f64(what);
    case GgufValueType.UINT64: return r.u64(what);
    case GgufValueType.INT64: return r.i64(what);
    case GgufValueType.BOOL: {
      const v = r.u8(what);
      if (v > 1) throw new GgufFormatError(`${what} is a bool with value ${v}`);
      return v === 1;
    }
    case GgufValueType.STRING: return r.string(what);
    default: throw new GgufFormatError(`${what} has unknown value type ${type}`);
  }
}

/** Parses the header (metadata and tensor infos) of the GGUF file open at `fd`; never reads tensor data. */
export function readGgufHeaderFromFd(fd: number): GgufHeader {
  const size = fstatSync(fd).size;
  const r = new ForwardReader(fd, size);
  const magic = r.u32("magic");
  if (magic !== GGUF_MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
  const version = r.u32("version");
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = r.count("tensor count", MAX_ENTRIES);
  const metadataCount = r.count("metadata count", MAX_ENTRIES);

  const metadata = new Map<string, GgufMetadataEntry>();
  for (let i = 0; i < metadataCount; i++) {
    const key = r.string(`metadata key #${i}`);
    const type = r.u32(`type of ${key}`);
    if (type === GgufValueType.ARRAY) {
      const itemType = r.u32(`item type of ${key}`);
      if (itemType === GgufValueType.ARRAY) throw new GgufFormatError(`${key} is a nested array`);
      const n = r.count(`length of ${key}`, MAX_ARRAY_ITEMS);
      const value: GgufScalar[] = new Array(n);
      for (let j = 0; j < n; j++) value[j] = readScalar(r, itemType, `${key}[${j}]`);
      metadata.set(key, { type, itemType, value } as GgufMetadataEntry);
    } else {
      metadata.set(key, { type, value: readScalar(r, type, key) } as GgufMetadataEntry);
    }
  }

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`tensor #${i} name`);
    const nDims = r.u32(`dimension count of ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const n = r.u64(`dimension ${d} of ${name}`);
      if (n < 1n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`tensor ${name} has dimension ${d} = ${n}`);
      dims.push(Number(n));
    }
    const type = r.u32(`type of ${name}`);
    const offset = r.u64(`offset of ${name}`);
    tensors.push({ name, dims, type, offset });
  }

  const alignmentEntry = metadata.get("general.alignment");
  const alignment = alignmentEntry && alignmentEntry.type !== GgufValueType.ARRAY ? Number(alignmentEntry.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufFormatError(`general.alignment ${alignment} is not a power of two`);
  }
  const a = BigInt(alignment);
  const dataOffset = ((BigInt(r.position) + a - 1n) / a) * a;
  return { version, metadata, tensors, dataOffset, fileSize: BigInt(size) };
}

/** @throws NotARegularFileError for a FIFO, device or directory, which would block or never end. */
export function readGgufHeader(path: string): GgufHeader {
  const fd = openRegularFile(path);
  try {
    return readGgufHeaderFromFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Typed accessors that return undefined for a missing key or a value of the wrong shape. */
export function metadataNumber(header: GgufHeader, key: string): number | undefined {
  const e = header.metadata.get(key);
  if (!e || e.type === GgufValueType.ARRAY || e.type === GgufValueType.STRING || e.type === GgufValueType.BOOL) return undefined;
  return Number(e.value);
}

export function metadataString(header: GgufHeader, key: string): string | undefined {
  const e = header.metadata.get(key);
  return e && e.type === GgufValueType.STRING ? (e.value as string) : undefined;
}

export function metadataArrayLength(header: GgufHeader, key: string): number | undefined {
  const e = header.metadata.get(key);
  return e && e.type === GgufValueType.ARRAY ? e.value.length : undefined;
}
