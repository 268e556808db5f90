import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addAdapter, AddAdapterError } from "../../src/models/adapters/add-adapter.js";
import { encodeLoraAdapter } from "../../src/models/adapters/lora-gguf.js";
import { promoteAdapter, rollbackAdapter } from "../../src/models/adapters/registry.js";
import { findAdapterProblems } from "../../src/models/adapters/validate.js";
import { GgufValueType } from "../../src/models/gguf/format.js";
import { readGgufHeader } from "../../src/models/gguf/reader.js";
import { encodeGguf } from "../../src/models/gguf/writer.js";
import { loadManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { TEST_MODEL_SHAPE, asciiToken, tokenAdapter } from "../support/adapters.js";

const dir = mkdtempSync(join(tmpdir(), "atomic-adapters-"));
function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
const untied = write("untied.gguf", buildTestModel({ seed: 1 }));
const tied = write("tied.gguf", buildTestModel({ seed: 1, tiedOutput: true }));
const wide = write("wide.gguf", buildTestModel({ seed: 1, embeddingLength: 128 }));

const { embedding, feedForward } = TEST_MODEL_SHAPE;
function pair(target: string, inputs: number, outputs: number, rank = 2) {
  return { target, rank, inputs, outputs, a: new Float32Array(rank * inputs), b: new Float32Array(outputs * rank) };
}
const downAdapter = (inputs: number = feedForward, outputs: number = embedding) => encodeLoraAdapter({ architecture: "llama", alpha: 2, pairs: [pair("blk.1.ffn_down.weight", inputs, outputs)] });
const problems = (adapter: Uint8Array, base: string) => findAdapterProblems(readGgufHeader(write(`a-${Math.random()}.gguf`, adapter)), readGgufHeader(base));

describe("an adapter is checked against its base model before it is pinned or loaded", () => {
  it("accepts a LoRA adapter whose pairs fit the base's tensors", () => {
    expect(problems(downAdapter(), untied)).toEqual([]);
    expect(problems(tokenAdapter(asciiToken("Z"), 1), untied)).toEqual([]);
  });

  it("refuses a model that is not an adapter", () => {
    expect(problems(buildTestModel({ seed: 2 }), untied)).toEqual([expect.stringContaining("not an adapter file")]);
  });

  it("refuses shapes that do not fit the base (an adapter for another model)", () => {
    expect(problems(downAdapter(), wide)).toEqual([expect.stringMatching(/blk\.1\.ffn_down\.weight: shapes .* do not fit/)]);
    expect(problems(downAdapter(feedForward, 32), untied)).toEqual([expect.stringContaining("do not fit")]);
  });

  it("refuses a pair for a tensor the base does not have, and names it", () => {
    const adapter = encodeLoraAdapter({ architecture: "llama", alpha: 2, pairs: [pair("blk.7.ffn_down.weight", feedForward, embedding)] });
    expect(problems(adapter, untied)).toEqual([expect.stringContaining("blk.7.ffn_down.weight: the base model has no such tensor")]);
  });

  it("refuses output.weight and token_embd.weight pairs on a tied model (llama.cpp refuses the one and aborts on the other)", () => {
    expect(problems(tokenAdapter(asciiToken("Z"), 1), tied)).toEqual([expect.stringContaining("output.weight: the base model has no such tensor")]);
    const embd = encodeGguf({
      metadata: [
        ["general.architecture", { type: GgufValueType.STRING, value: "llama" }],
        ["general.type", { type: GgufValueType.STRING, value: "adapter" }],
        ["adapter.type", { type: GgufValueType.STRING, value: "lora" }],
      ],
      tensors: [
        { name: "token_embd.weight.lora_a", dims: [2, TEST_MODEL_SHAPE.vocabulary], type: 0, data: new Uint8Array(2 * TEST_MODEL_SHAPE.vocabulary * 4) },
        { name: "token_embd.weight.lora_b", dims: [2, embedding], type: 0, data: new Uint8Array(2 * embedding * 4) },
      ],
    });
    expect(problems(embd, untied)).toEqual([]);
    expect(problems(embd, tied)).toEqual([expect.stringContaining("would apply this pair to the output projection too and abort")]);
  });

  it("refuses what llama.cpp would abort on or refuse: a non-f32 alpha, another architecture, a half pair", () => {
    const base = downAdapter();
    const header = readGgufHeader(write("base-adapter.gguf", base));
    const rewrite = (metadata: Array<[string, { type: number; value: unknown }]>, drop?: string) => encodeGguf({
      metadata: metadata as never,
      tensors: header.tensors.filter((t) => t.name !== drop).map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: new Uint8Array(t.dims.reduce((x, y) => x * y, 1) * 4) })),
    });
    const meta = (alpha: { type: number; value: unknown }, arch = "llama"): Array<[string, { type: number; value: unknown }]> => [
      ["general.architecture", { type: GgufValueType.STRING, value: arch }],
      ["general.type", { type: GgufValueType.STRING, value: "adapter" }],
      ["adapter.type", { type: GgufValueType.STRING, value: "lora" }],
      ["adapter.lora.alpha", alpha],
    ];
    expect(problems(rewrite(meta({ type: GgufValueType.UINT32, value: 2 })), untied)).toEqual([expect.stringContaining("adapter.lora.alpha: must be a float32")]);
    expect(problems(rewrite(meta({ type: GgufValueType.FLOAT32, value: 2 }, "gemma3")), untied)).toEqual([expect.stringContaining("the adapter is for gemma3")]);
    expect(problems(rewrite(meta({ type: GgufValueType.FLOAT32, value: 2 }), "blk.1.ffn_down.weight.lora_b"), untied)).toEqual([expect.stringContaining("lora_b is missing")]);
  });
});

describe("adapters in the manifest", () => {
  it("pins versions per base model and task class, one promoted at a time, and rolls back", async () => {
    const manifestPath = join(dir, "manifest.json");
    const add = async (name: string, token: string) => addAdapter({
      manifestPath,
      file: write(name, tokenAdapter(asciiToken(token), 3)),
      baseModel: { id: "untied", path: untied },
      taskClass: "task:label",
    });
    const first = await add("first.gguf", "Z");
    expect(first.entry).toMatchObject({ id: "untied.task-label.v1", version: 1, status: "promoted", file: "first.gguf", baseModel: "untied", scale: 1 });
    const second = await add("second.gguf", "Y");
    expect(second.change.previous?.id).toBe("untied.task-label.v1");
    const statuses = () => Object.fromEntries((loadManifest(manifestPath).adapters ?? []).map((a) => [a.id, a.status]));
    expect(statuses()).toEqual({ "untied.task-label.v1": "retired", "untied.task-label.v2": "promoted" });

    const back = rollbackAdapter(manifestPath, { baseModel: "untied", taskClass: "task:label" });
    expect(back.promoted?.id).toBe("untied.task-label.v1");
    expect(statuses()).toEqual({ "untied.task-label.v1": "promoted", "untied.task-label.v2": "retired" });
    // v2 was rolled back: a second rollback does not bring it back, it leaves the base model alone.
    const again = rollbackAdapter(manifestPath, { baseModel: "untied", taskClass: "task:label" });
    expect(again.promoted).toBeNull();
    expect(statuses()).toEqual({ "untied.task-label.v1": "retired", "untied.task-label.v2": "retired" });
    expect(promoteAdapter(manifestPath, "untied.task-label.v2").promoted?.status).toBe("promoted");
  });

  it("refuses to pin a file that does not fit, and pins nothing", async () => {
    const manifestPath = join(dir, "refused.json");
    await expect(addAdapter({ manifestPath, file: write("wide-adapter.gguf", downAdapter()), baseModel: { id: "wide", path: wide }, taskClass: null }))
      .rejects.toThrow(AddAdapterError);
    await expect(addAdapter({ manifestPath, file: untied, baseModel: { id: "untied", path: untied }, taskClass: null })).rejects.toThrow(/not an adapter file/);
    expect(loadManifest(manifestPath).adapters).toBeUndefined();
  });
});
