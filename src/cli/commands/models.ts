import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { catalogFromConfig } from "../../bootstrap/catalog.js";
import { addModel, AddModelError } from "../../models/add-model.js";
import { CAPABILITIES, loadManifest, modelFilePath, type Capability } from "../../models/manifest.js";
import { buildTestModel, TEST_MODEL_LABEL } from "../../models/test-model.js";
import { verifyAdapter, verifyModel } from "../../models/verify.js";
import type { CommandContext } from "../context.js";
import { createProgress } from "../progress.js";
import { UsageError } from "../usage.js";

/** The options of `atomic models add`, as src/cli/definitions/models.ts declares them. */
export interface AddModelOptions {
  id?: string;
  capabilities?: string[];
  parallel?: number;
  costPrompt?: number;
  costCompletion?: number;
  costUnit: string;
  description?: string;
  replace?: boolean;
}

/** `atomic models add FILE`: checks, hashes and pins a GGUF file. */
export async function addModelCommand(context: CommandContext, options: AddModelOptions, file: string): Promise<number> {
  const { capabilities } = options;
  const unknown = capabilities?.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown?.length) throw new UsageError(`unknown capabilities: ${unknown.join(", ")} (known: ${CAPABILITIES.join(", ")})`);
  const { costPrompt, costCompletion } = options;
  const progress = createProgress("hashing");
  try {
    const entry = await addModel({
      manifestPath: context.config.models.manifest,
      file,
      id: options.id,
      capabilities: capabilities as Capability[] | undefined,
      parallel: options.parallel,
      cost: costPrompt !== undefined || costCompletion !== undefined
        ? { unit: options.costUnit, per1kPromptTokens: costPrompt ?? 0, per1kCompletionTokens: costCompletion ?? 0 }
        : undefined,
      description: options.description,
      replace: options.replace,
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

/** `atomic models verify`: re-hashes every pinned model and adapter; exit 1 when any fails. */
export async function verifyModelsCommand(context: CommandContext): Promise<number> {
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

/** `atomic models list`. */
export function listModelsCommand(context: CommandContext): number {
  const { config } = context;
  const catalog = catalogFromConfig(config, { testModelWhenEmpty: false });
  for (const m of catalog) context.out(`${m.id}\t${m.sha256}\t${m.sizeBytes}\t${m.capabilities.join(",")}\t${m.path}`);
  if (catalog.length === 0) context.out(`no models are pinned in ${config.models.manifest}${config.models.family ? ` or ${config.models.family}` : ""}`);
  return 0;
}

/**
 * `atomic models test-model --out FILE`: the random-weight GGUF the gateway generates when nothing is pinned (seed
 * 1), as a file to carry in and pin where no real weights may be brought yet. Never overwrites: a file of that name
 * may be a pinned model.
 */
export function testModelCommand(context: CommandContext, options: { out: string; seed?: number }): number {
  const seed = options.seed ?? 1;
  const bytes = buildTestModel({ seed });
  const out = resolve(options.out);
  try {
    writeFileSync(out, bytes, { flag: "wx", mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    context.err(`refused: cannot write ${out}: ${code === "EEXIST" ? "it exists (choose another --out)" : (error as Error).message}`);
    return 1;
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  context.out(`wrote ${out}: ${TEST_MODEL_LABEL}, seed ${seed}, ${bytes.length} bytes`);
  context.out(`sha256 ${sha256}`);
  context.out(`pin it: atomic models add ${out} --id test-random --capabilities chat,completion`);
  return 0;
}
