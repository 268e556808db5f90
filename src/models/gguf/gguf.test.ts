import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTestModel } from "../test-model.js";
import { GgufValueType } from "./format.js";
import { GgufFormatError, metadataNumber, metadataString, readGgufHeader } from "./reader.js";
import { findGgufProblems } from "./validate.js";
import { encodeGguf } from "./writer.js";

const dir = mkdtempSync(join(tmpdir(), "atomic-gguf-"));
function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("GGUF writer and reader", () => {
  it("round-trips metadata of every scalar type and arrays", () => {
    const path = write("kv.gguf", encodeGguf({
      metadata: [
        ["u8", { type: GgufValueType.UINT8, value: 255 }],
        ["i32", { type: GgufValueType.INT32, value: -5 }],
        ["f32", { type: GgufValueType.FLOAT32, value: 0.5 }],
        ["u64", { type: GgufValueType.UINT64, value: 2n ** 40n }],
        ["flag", { type: GgufValueType.BOOL, value: true }],
        ["name", { type: GgufValueType.STRING, value: "héllo" }],
        ["list", { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ["a", "bc"] }],
      ],
      tensors: [{ name: "t", dims: [4], type: 0, data: new Uint8Array(16) }],
    }));
    const header = readGgufHeader(path);
    expect(header.metadata.get("u8")?.value).toBe(255);
    expect(header.metadata.get("i32")?.value).toBe(-5);
    expect(header.metadata.get("f32")?.value).toBe(0.5);
    expect(header.metadata.get("u64")?.value).toBe(2n ** 40n);
    expect(header.metadata.get("flag")?.value).toBe(true);
    expect(header.metadata.get("name")?.value).toBe("héllo");
    expect(header.metadata.get("list")?.value).toEqual(["a", "bc"]);
    expect(header.tensors).toEqual([{ name: "t", dims: [4], type: 0, offset: 0n }]);
    expect(header.dataOffset % 32n).toBe(0n);
  });

  it("reads the generated test model as a consistent llama model", () => {
    const header = readGgufHeader(write("model.gguf", buildTestModel({ seed: 9 })));
    expect(metadataString(header, "general.architecture")).toBe("llama");
    expect(metadataNumber(header, "llama.context_length")).toBeGreaterThanOrEqual(4096);
    expect(findGgufProblems(header)).toEqual([]);
  });

  it("is deterministic per seed and differs across seeds", () => {
    expect(buildTestModel({ seed: 4 }).equals(buildTestModel({ seed: 4 }))).toBe(true);
    expect(buildTestModel({ seed: 4 }).equals(buildTestModel({ seed: 5 }))).toBe(false);
  });
});

describe("GGUF validation catches what would crash or fail llama.cpp", () => {
  it.each(["llama.feed_forward_length", "llama.attention.head_count", "llama.embedding_length", "tokenizer.ggml.tokens", "general.architecture"])(
    "a missing %s",
    (key) => {
      const problems = findGgufProblems(readGgufHeader(write(`missing-${key}.gguf`, buildTestModel({ omitKeys: [key] }))));
      expect(problems.some((p) => p.startsWith(key))).toBe(true);
    },
  );

  it("a truncated file", () => {
    const bytes = buildTestModel();
    const problems = findGgufProblems(readGgufHeader(write("truncated.gguf", bytes.subarray(0, bytes.length - 100))));
    expect(problems.some((p) => p.includes("past the end of the file"))).toBe(true);
  });

  it("a file cut inside its header, or not GGUF at all", () => {
    expect(() => readGgufHeader(write("cut.gguf", buildTestModel().subarray(0, 200)))).toThrow(GgufFormatError);
    expect(() => readGgufHeader(write("text.gguf", Buffer.from("hello world, not a model")))).toThrow(/bad magic/);
  });

  it("a header claiming absurd sizes is refused before anything is allocated", () => {
    const bytes = Buffer.alloc(24);
    bytes.writeUInt32LE(0x46554747, 0);
    bytes.writeUInt32LE(3, 4);
    bytes.writeBigUInt64LE(0n, 8);
    bytes.writeBigUInt64LE(2n ** 62n, 16);
    expect(() => readGgufHeader(write("huge.gguf", bytes))).toThrow(/above the limit/);
  });
});
