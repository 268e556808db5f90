import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { float16Value } from "../gguf/float16.js";
import { isRecord } from "./checkpoint-files.js";

/**
 * A reader for the safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor names to
 * `{ dtype, shape, data_offsets }` (offsets relative to the byte buffer that follows the header), then that buffer.
 * Every claim in the header is checked against the file before any tensor is read, so a truncated or crafted file
 * is refused with a reason instead of yielding garbage or a huge allocation.
 */

export class SafetensorsFormatError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = "SafetensorsFormatError";
  }
}

/** Bytes per element of every dtype the format defines; a dtype not listed here is refused. */
const DTYPE_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** The reference implementation refuses headers above 100 MB; so does this reader, before allocating one. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorInfo {
  name: string;
  dtype: string;
  /** PyTorch order: the slowest-varying dimension first. */
  shape: number[];
  /** Byte offset of the tensor in the file (not in the data buffer). */
  fileOffset: number;
  byteLength: number;
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly tensors: ReadonlyMap<string, SafetensorInfo>,
  ) {}

  /** Opens and validates a file; call close() when done. Throws SafetensorsFormatError on any inconsistency. */
  static open(path: string): SafetensorsFile {
    const fd = openSync(path, "r");
    try {
      return new SafetensorsFile(path, fd, readHeader(path, fd));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** The tensor's elements as float32, converted from F32, F16 or BF16 storage. */
  readFloat32(name: string): Float32Array {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsFormatError(this.path, `no tensor named ${name}`);
    const bytes = readExactly(this.path, this.fd, info.fileOffset, info.byteLength);
    switch (info.dtype) {
      case "F32": return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      case "F16": return widenHalves(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2), float16Table());
      case "BF16": return widenBfloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
      default: throw new SafetensorsFormatError(this.path, `tensor ${name} has dtype ${info.dtype}; only F32, F16 and BF16 can be read as floats`);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

function readHeader(path: string, fd: number): Map<string, SafetensorInfo> {
  if (endianness() !== "LE") throw new SafetensorsFormatError(path, "this reader assumes a little-endian machine");
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new SafetensorsFormatError(path, `file is ${fileSize} bytes, too short for the 8-byte header length (truncated file?)`);
  const headerLength = Buffer.from(readExactly(path, fd, 0, 8)).readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsFormatError(path, `header length ${headerLength} is above the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLength > BigInt(fileSize - 8)) {
    throw new SafetensorsFormatError(path, `header length ${headerLength} runs past the end of the ${fileSize}-byte file (truncated file?)`);
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = fileSize - dataStart;

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(readExactly(path, fd, 8, dataStart - 8)));
  } catch (error) {
    throw new SafetensorsFormatError(path, `header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) throw new SafetensorsFormatError(path, "header is not a JSON object");

  const tensors = new Map<string, SafetensorInfo>();
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { info, begin, end } = parseEntry(path, name, entry, dataStart, dataLength);
    tensors.set(name, info);
    spans.push({ name, begin, end });
  }
  checkSpansTileTheBuffer(path, spans, dataLength);
  return tensors;
}

function parseEntry(path: string, name: string, entry: unknown, dataStart: number, dataLength: number) {
  const fail = (reason: string) => new SafetensorsFormatError(path, `tensor ${name}: ${reason}`);
  if (!isRecord(entry)) throw fail("entry is not an object");
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string") throw fail("dtype is missing");
  const elementSize = DTYPE_SIZE[dtype];
  if (elementSize === undefined) throw fail(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) throw fail("shape is not a list of non-negative integers");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw fail("data_offsets is not a [begin, end] pair of non-negative integers");
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] are reversed`);
  if (end > dataLength) throw fail(`data_offsets end ${end} is past the ${dataLength}-byte data buffer (truncated file?)`);
  const expected = (shape as number[]).reduce((n, d) => n * d, 1) * elementSize;
  if (end - begin !== expected) throw fail(`holds ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`);
  const info: SafetensorInfo = { name, dtype, shape: shape as number[], fileOffset: dataStart + begin, byteLength: end - begin };
  return { info, begin, end };
}

/** Like the reference implementation: tensors may not overlap, and together they cover the data buffer exactly. */
function checkSpansTileTheBuffer(path: string, spans: Array<{ name: string; begin: number; end: number }>, dataLength: number): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const span of spans) {
    if (span.begin < covered) throw new SafetensorsFormatError(path, `tensor ${span.name} overlaps the tensor before it`);
    if (span.begin > covered) throw new SafetensorsFormatError(path, `bytes ${covered}..${span.begin} of the data buffer belong to no tensor`);
    covered = span.end;
  }
  if (covered !== dataLength) {
    throw new SafetensorsFormatError(path, `the data buffer is ${dataLength} bytes but the tensors cover ${covered}`);
  }
}

/** Reads `length` bytes at `position` into a fresh, 8-byte-aligned buffer (so typed-array views over it are legal). */
function readExactly(path: string, fd: number, position: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, bytes, done, length - done, position + done);
    if (n === 0) throw new SafetensorsFormatError(path, `file ended at byte ${position + done} while reading ${length} bytes at ${position}`);
    done += n;
  }
  return bytes;
}

let halfTable: Float32Array | undefined;

function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = float16Value(bits);
  }
  return halfTable;
}

function widenHalves(halves: Uint16Array, table: Float32Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
  return out;
}

/** bfloat16 is the top half of a float32, so widening is a shift. */
function widenBfloat16(halves: Uint16Array): Float32Array {
  const out = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = halves[i]! << 16;
  return new Float32Array(out.buffer);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
