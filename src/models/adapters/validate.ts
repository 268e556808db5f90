import { GgufValueType } from "../gguf/format.js";
import { metadataString, type GgufHeader } from "../gguf/reader.js";
import { findTensorLayoutProblems } from "../gguf/validate.js";
import { summariseLoraHeader } from "./lora-gguf.js";

/**
 * Every reason llama.cpp would refuse a LoRA adapter for this base model — or abort the process using it — as
 * `what: reason` strings; empty means it fits. It mirrors llama_adapter_lora_init (node-llama-cpp 3.21.1's
 * llama.cpp) and adds what that function leaves to a crash:
 * - a non-f32 `adapter.lora.alpha` (gguf_get_val_f32 asserts on the type);
 * - an adapter on token_embd.weight for a model without output.weight: the output projection then reuses
 *   token_embd, applies the pair with the input embedding's layout and aborts (GGML_ASSERT, measured);
 * - a token_embd pair whose ranks differ (not checked there; the graph asserts).
 */
export function findAdapterProblems(adapter: GgufHeader, base: GgufHeader): string[] {
  const problems: string[] = [];
  const summary = summariseLoraHeader(adapter);
  if (summary.generalType !== "adapter") return [`general.type: ${JSON.stringify(summary.generalType ?? null)}, not "adapter" (not an adapter file)`];
  if (summary.adapterType !== "lora") problems.push(`adapter.type: ${JSON.stringify(summary.adapterType ?? null)}, not "lora"`);
  const alpha = adapter.metadata.get("adapter.lora.alpha");
  if (alpha !== undefined && alpha.type !== GgufValueType.FLOAT32) problems.push("adapter.lora.alpha: must be a float32 (llama.cpp aborts on any other type)");
  const baseArch = metadataString(base, "general.architecture");
  if (summary.architecture !== baseArch) {
    problems.push(`general.architecture: the adapter is for ${summary.architecture ?? "no architecture"}, the base model is ${baseArch ?? "of none"}`);
  }
  for (const name of summary.otherTensors) {
    // llama.cpp skips norm vectors in adapters and refuses every other tensor name.
    if (!name.endsWith("_norm.weight")) problems.push(`tensor ${name}: neither .lora_a nor .lora_b`);
  }
  if (summary.pairs.size === 0) problems.push("tensors: the adapter adapts nothing");
  problems.push(...findTensorLayoutProblems(adapter));

  const baseTensors = new Map(base.tensors.map((t) => [t.name, t.dims]));
  const tied = !baseTensors.has("output.weight");
  for (const [target, { a, b }] of summary.pairs) {
    if (!a || !b) {
      problems.push(`${target}: lora_${a ? "b" : "a"} is missing`);
      continue;
    }
    const dims = baseTensors.get(target);
    if (!dims) {
      problems.push(`${target}: the base model has no such tensor (an adapter for another model?)`);
      continue;
    }
    if (a.length !== 2 || b.length !== 2 || dims.length !== 2) {
      problems.push(`${target}: adapter pairs and their targets are matrices (A ${a.join("×")}, B ${b.join("×")}, target ${dims.join("×")})`);
      continue;
    }
    const [rows, columns] = dims as [number, number];
    if (target === "token_embd.weight") {
      if (tied) problems.push(`${target}: the base model has no output.weight, so llama.cpp would apply this pair to the output projection too and abort`);
      else if (rows !== b[1] || columns !== a[1] || a[0] !== b[0]) problems.push(`${target}: shapes A ${a.join("×")}, B ${b.join("×")} do not fit the base's ${dims.join("×")}`);
      continue;
    }
    if (rows !== a[0] || columns !== b[1]) problems.push(`${target}: shapes A ${a.join("×")}, B ${b.join("×")} do not fit the base's ${dims.join("×")}`);
    else if (a[1] !== b[0]) problems.push(`${target}: the ranks of A (${a[1]}) and B (${b[0]}) differ`);
  }
  return problems;
}
