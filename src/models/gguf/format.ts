/** GGUF v3 constants: metadata value types and the ggml tensor types Atomic reads or writes. */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** ggml tensor types with their block size (elements) and bytes per block. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/**
 * Block layout of every ggml type llama.cpp knows, by id, so the reader can bound a tensor's byte size even for
 * types Atomic never writes. Unknown ids are reported as such rather than guessed.
 */
export const GGML_TYPE_LAYOUT: Readonly<Record<number, { blockSize: number; bytesPerBlock: number }>> = {
  0: { blockSize: 1, bytesPerBlock: 4 }, // F32
  1: { blockSize: 1, bytesPerBlock: 2 }, // F16
  2: { blockSize: 32, bytesPerBlock: 18 }, // Q4_0
  3: { blockSize: 32, bytesPerBlock: 20 }, // Q4_1
  6: { blockSize: 32, bytesPerBlock: 22 }, // Q5_0
  7: { blockSize: 32, bytesPerBlock: 24 }, // Q5_1
  8: { blockSize: 32, bytesPerBlock: 34 }, // Q8_0
  9: { blockSize: 32, bytesPerBlock: 36 }, // Q8_1
  10: { blockSize: 256, bytesPerBlock: 84 }, // Q2_K
  11: { blockSize: 256, bytesPerBlock: 110 }, // Q3_K
  12: { blockSize: 256, bytesPerBlock: 144 }, // Q4_K
  13: { blockSize: 256, bytesPerBlock: 176 }, // Q5_K
  14: { blockSize: 256, bytesPerBlock: 210 }, // Q6_K
  15: { blockSize: 256, bytesPerBlock: 292 }, // Q8_K
  16: { blockSize: 256, bytesPerBlock: 66 }, // IQ2_XXS
  17: { blockSize: 256, bytesPerBlock: 74 }, // IQ2_XS
  18: { blockSize: 256, bytesPerBlock: 98 }, // IQ3_XXS
  19: { blockSize: 256, bytesPerBlock: 50 }, // IQ1_S
  20: { blockSize: 32, bytesPerBlock: 18 }, // IQ4_NL
  21: { blockSize: 256, bytesPerBlock: 110 }, // IQ3_S
  22: { blockSize: 256, bytesPerBlock: 82 }, // IQ2_S
  23: { blockSize: 256, bytesPerBlock: 136 }, // IQ4_XS
  24: { blockSize: 1, bytesPerBlock: 1 }, // I8
  25: { blockSize: 1, bytesPerBlock: 2 }, // I16
  26: { blockSize: 1, bytesPerBlock: 4 }, // I32
  27: { blockSize: 1, bytesPerBlock: 8 }, // I64
  28: { blockSize: 1, bytesPerBlock: 8 }, // F64
  29: { blockSize: 256, bytesPerBlock: 56 }, // IQ1_M
  30: { blockSize: 1, bytesPerBlock: 2 }, // BF16
  34: { blockSize: 256, bytesPerBlock: 54 }, // TQ1_0
  35: { blockSize: 256, bytesPerBlock: 66 }, // TQ2_0
  39: { blockSize: 32, bytesPerBlock: 17 }, // MXFP4
};

/** GGUF token types (llama.cpp's llama_token_type). */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufScalar[];

/** A metadata entry with its declared type: writing needs the type, reading keeps it for validation. */
export type GgufMetadataEntry =
  | { type: Exclude<GgufValueType, typeof GgufValueType.ARRAY>; value: GgufScalar }
  | { type: typeof GgufValueType.ARRAY; itemType: Exclude<GgufValueType, typeof GgufValueType.ARRAY>; value: GgufScalar[] };

export interface GgufTensorInfo {
  name: string;
  /** Dimensions in ggml order: the fastest-varying dimension first. */
  dims: number[];
  type: number;
  /** Offset of the tensor's data relative to the start of the data section. */
  offset: bigint;
}
