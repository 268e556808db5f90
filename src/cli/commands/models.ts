import { parseArgs } from "node:util";
import { catalogFromConfig } from "../../bootstrap/catalog.js";
import { addModel, AddModelError } from "../../models/add-model.js";
import { CAPABILITIES, loadManifest, modelFilePath, type Capability } from "../../models/manifest.js";
import { verifyAdapter, verifyModel } from "../../models/verify.js";
import { ADAPTER_USAGE, adapterCommand, addAdapterCommand, listAdaptersCommand } from "./adapters.js";
import type { CommandContext } from "../context.js";
import { createProgress } from "../progress.js";
import { UsageError } from "../usage.js";

async function add(context: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      id: { type: "string" },
      capabilities: { type: "string" },
      parallel: { type: "string" },
      "cost-prompt": { type: "string" },
      "cost-completion": { type: "string" },
      "cost-unit": { type: "string" },
      description: { type: "string" },
      replace: { type: "boolean" },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("usage: atomic models add <file.gguf> [--id ID] [--capabilities chat,completion,embedding] [--parallel N] [--cost-prompt X --cost-completion Y --cost-unit U] [--replace]");
  const capabilities = values.capabilities?.split(",").map((c) => c.trim());
  const unknown = capabilities?.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown?.length) throw new UsageError(`unknown capabilities: ${unknown.join(", ")} (known: ${CAPABILITIES.join(", ")})`);
  const number = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
    return n;
  };
  const costPrompt = number("cost-prompt", values["cost-prompt"]);
  const costCompletion = number("cost-completion", values["cost-completion"]);
  const progress = createProgress("hashing");
  try {
    const entry = await addModel({
      manifestPath: context.config.models.manifest,
      file,
      id: values.id,
      capabilities: capabilities as Capability[] | undefined,
      parallel: number("parallel", values.parallel),
      cost: costPrompt !== undefined || costCompletion !== undefined
        ? { unit: values["cost-unit"] ?? "compute-seconds", per1kPromptTokens: costPrompt ?? 0, per1kCompletionTokens: costCompletion ?? 0 }
        : undefined,
      description: values.description,
      replace: values.replace,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish("done");
    context.out(`pinned ${entry.id}: sha256 ${entry.sha256}, ${entry.sizeBytes} bytes, context ${entry.contextLength}, in ${context.config.models.manifest}`);
    return 0;
  } catch (error) {
    if (error instanceof AddModelError) {
      context.err(`refused: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function verify(context: CommandContext): Promise<number> {
  const { config } = context;
  const catalog = catalogFromConfig(config, { testModelWhenEmpty: false });
  if (catalog.length === 0) {
    context.out(`no models are pinned in ${config.models.manifest}${config.models.family ? ` or ${config.models.family}` : ""}`);
    return 0;
  }
  let failures = 0;
  for (const model of catalog) {
    const progress = createProgress(`verifying ${model.id}`);
    const result = await verifyModel(model, (done, total) => progress.update(done, total));
    progress.finish(result.ok ? "ok" : "FAILED");
    context.out(`${result.ok ? "ok     " : "FAILED "} ${model.id}  ${result.code}  ${result.detail}`);
    if (!result.ok) failures++;
  }
  const manifestPath = config.models.manifest;
  for (const adapter of loadManifest(manifestPath).adapters ?? []) {
    const result = await verifyAdapter({ ...adapter, path: modelFilePath(manifestPath, adapter) }, catalog.find((m) => m.id === adapter.baseModel)?.path);
    context.out(`${result.ok ? "ok     " : "FAILED "} ${adapter.id} (adapter of ${adapter.baseModel})  ${result.code}  ${result.detail}`);
    if (!result.ok) failures++;
  }
  return failures === 0 ? 0 : 1;
}

function list(context: CommandContext): number {
  const { config } = context;
  const catalog = catalogFromConfig(config, { testModelWhenEmpty: false });
  for (const m of catalog) context.out(`${m.id}\t${m.sha256}\t${m.sizeBytes}\t${m.capabilities.join(",")}\t${m.path}`);
  if (catalog.length === 0) context.out(`no models are pinned in ${config.models.manifest}${config.models.family ? ` or ${config.models.family}` : ""}`);
  return 0;
}

/** `atomic models add|verify|list`, and the adapters' `add-adapter|adapters|adapter`. */
export async function modelsCommand(context: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "add": return add(context, rest);
    case "verify": return verify(context);
    case "list": return list(context);
    case "add-adapter": return addAdapterCommand(context, rest);
    case "adapters": return listAdaptersCommand(context);
    case "adapter": return adapterCommand(context, rest);
    default: throw new UsageError(`usage: atomic models <add|verify|list|add-adapter|adapters|adapter>\n${ADAPTER_USAGE}`);
  }
}
