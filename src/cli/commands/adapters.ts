import { readFileSync } from "node:fs";
import { AdapterFitService } from "../../adaptation/adapters/fit-service.js";
import { FitError } from "../../adaptation/adapters/fit/fit-adapter.js";
import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import { AuditQueueWriter } from "../../audit/store/queue.js";
import { catalogFromConfig } from "../../bootstrap/catalog.js";
import { openDatabase } from "../../bootstrap/database.js";
import type { ChatMessage, GenerationInput } from "../../inference/interface.js";
import { addAdapter, AddAdapterError } from "../../models/adapters/add-adapter.js";
import { AdapterRegistryError, describeSlot, promoteAdapter, rollbackAdapter, type AdapterChange, type AdapterSlot } from "../../models/adapters/registry.js";
import { loadManifest, type AdapterEntry } from "../../models/manifest.js";
import type { CommandContext } from "../context.js";
import { consoleOperator } from "../operator.js";
import { UsageError } from "../usage.js";

/**
 * Runs `change` with an audit writer on the database, refusing the change when the database cannot be opened: an
 * adapter put in service without its audit event would be a change the log cannot show.
 */
async function audited(context: CommandContext, change: (record: (event: AuditEvent) => Promise<void>) => Promise<number>): Promise<number> {
  let database;
  try {
    database = await openDatabase(context.config, context.logger, { joinRunning: true });
  } catch (error) {
    context.err(`refused: cannot open the database to audit the change (${(error as Error).message})`);
    return 1;
  }
  try {
    const writer = new AuditQueueWriter(database.stores.pool);
    return await change((event) => writer.enqueue(event));
  } finally {
    await database.close();
  }
}

function promotedEvent(change: AdapterChange, reason: "operator" | "rollback", slot: AdapterSlot, baseSha256: string | undefined): AuditEvent {
  const promoted = change.promoted;
  return systemEvent("adapter.promoted", {
    actor: { subject: consoleOperator() },
    ...(baseSha256 === undefined ? {} : { model: { id: slot.baseModel, sha256: baseSha256 } }),
    detail: {
      adapter: promoted?.id ?? null,
      sha256: promoted?.sha256 ?? null,
      version: promoted?.version ?? null,
      taskClass: slot.taskClass,
      ...(slot.tenant === undefined ? {} : { tenant: slot.tenant }),
      previous: change.previous ? { adapter: change.previous.id, sha256: change.previous.sha256 } : null,
      reason,
    },
  });
}

/** The pinned model --base names. */
function baseModelOf(context: CommandContext, id: string) {
  const model = catalogFromConfig(context.config, { testModelWhenEmpty: false }).find((m) => m.id === id);
  if (!model) throw new UsageError(`no model ${id} is pinned (atomic models list)`);
  return model;
}

/** The options of `atomic models add-adapter`, as src/cli/definitions/models.ts declares them. */
export interface AddAdapterOptions {
  base: string;
  task?: string;
  id?: string;
  scale?: number;
  candidate?: boolean;
  description?: string;
}

/** `atomic models add-adapter FILE --base MODEL`: checks, hashes and pins an adapter, and promotes it unless --candidate. */
export async function addAdapterCommand(context: CommandContext, options: AddAdapterOptions, file: string): Promise<number> {
  const base = baseModelOf(context, options.base);
  const { scale } = options;
  const add = async (record?: (event: AuditEvent) => Promise<void>) => {
    try {
      const { entry, change } = await addAdapter({
        manifestPath: context.config.models.manifest,
        file,
        baseModel: base,
        taskClass: options.task ?? null,
        ...(options.id === undefined ? {} : { id: options.id }),
        ...(scale === undefined ? {} : { scale }),
        ...(options.candidate ? { candidate: true } : {}),
        ...(options.description === undefined ? {} : { description: options.description }),
      });
      if (record) await record(promotedEvent(change, "operator", entry, base.sha256));
      context.out(`pinned ${entry.id} (${entry.status}, version ${entry.version}) for ${entry.baseModel} / ${entry.taskClass ?? "every task class"}: sha256 ${entry.sha256}, ${entry.sizeBytes} bytes`);
      return 0;
    } catch (error) {
      if (!(error instanceof AddAdapterError)) throw error;
      context.err(`refused: ${error.message}`);
      return 1;
    }
  };
  // A candidate changes nothing that serves: it is pinned without an audit event, as `models add` pins a model.
  return options.candidate ? add() : audited(context, add);
}

/** `atomic models adapters`. */
export function listAdaptersCommand(context: CommandContext): number {
  const adapters = loadManifest(context.config.models.manifest).adapters ?? [];
  if (adapters.length === 0) context.out(`no adapters are pinned in ${context.config.models.manifest}`);
  for (const a of adapters) context.out([a.id, a.status, `v${a.version}`, a.baseModel, a.taskClass ?? "*", `scale ${a.scale}`, a.sha256, accuracyOf(a), a.file].join("\t"));
  return 0;
}

function accuracyOf(adapter: AdapterEntry): string {
  if (!adapter.fit) return "-";
  const { base, candidate } = adapter.fit.accuracy;
  return `held-back ${(candidate * 100).toFixed(0)}% (base ${(base * 100).toFixed(0)}%, n=${adapter.fit.heldBack})`;
}

/** `atomic models adapter promote ID`: puts a pinned adapter in service for its task class, audited. */
export async function promoteAdapterCommand(context: CommandContext, _options: unknown, id: string): Promise<number> {
  const manifestPath = context.config.models.manifest;
  const entry = (loadManifest(manifestPath).adapters ?? []).find((a) => a.id === id);
  if (!entry) return refuse(context, `no adapter with id ${id} is pinned`);
  const base = catalogFromConfig(context.config, { testModelWhenEmpty: false }).find((m) => m.id === entry.baseModel);
  return audited(context, async (record) => {
    const change = promoteAdapter(manifestPath, entry.id);
    await record(promotedEvent(change, "operator", entry, base?.sha256));
    context.out(`promoted ${entry.id} for ${describeSlot(entry)}${change.previous ? ` (retired ${change.previous.id})` : ""}`);
    return 0;
  });
}

/** The options of `atomic models adapter rollback`. */
export interface RollbackAdapterOptions {
  base: string;
  task?: string;
  tenant?: string;
}

/** `atomic models adapter rollback --base MODEL`: undoes the slot's last promotion, audited. */
export async function rollbackAdapterCommand(context: CommandContext, options: RollbackAdapterOptions): Promise<number> {
  const manifestPath = context.config.models.manifest;
  const base = baseModelOf(context, options.base);
  const slot: AdapterSlot = { baseModel: base.id, taskClass: options.task ?? null, ...(options.tenant === undefined ? {} : { tenant: options.tenant }) };
  return audited(context, async (record) => {
    let change: AdapterChange;
    try {
      change = rollbackAdapter(manifestPath, slot);
    } catch (error) {
      if (error instanceof AdapterRegistryError) return refuse(context, error.message);
      throw error;
    }
    await record(promotedEvent(change, "rollback", slot, base.sha256));
    context.out(`rolled back ${change.previous?.id}: ${change.promoted ? `${change.promoted.id} serves again` : "the base model alone serves"} ${describeSlot(slot)}`);
    return 0;
  });
}

/** The options of `atomic models adapter fit`. */
export interface FitAdapterOptions {
  base: string;
  examples: string;
  task?: string;
  labels?: string[];
  seed?: number;
}

/** `atomic models adapter fit --base MODEL --examples FILE`: fits, pins and (when it wins) promotes an adapter. */
export async function fitAdapterCommand(context: CommandContext, options: FitAdapterOptions): Promise<number> {
  const manifestPath = context.config.models.manifest;
  const base = baseModelOf(context, options.base);
  const examples = readExamples(options.examples);
  const labels = options.labels ?? [...new Set(examples.map((e) => e.label))];
  return audited(context, async (record) => {
    const service = new AdapterFitService({ manifestPath, models: [base], record, threads: context.config.inference.threads });
    try {
      const outcome = await service.fit({
        baseModel: base.id,
        taskClass: options.task ?? null,
        labels,
        examples,
        actor: { subject: consoleOperator() },
        ...(options.seed === undefined ? {} : { seed: options.seed }),
      });
      const { timings, counts } = outcome.result;
      context.out(`pinned ${outcome.adapter.id} (sha256 ${outcome.adapter.sha256}); ${outcome.decision}`);
      context.err(`${counts.fitted} examples fitted, ${counts.heldBack} held back; forward passes ${(timings.featuresMs / 1000).toFixed(1)} s, fit ${(timings.fitMs / 1000).toFixed(2)} s`);
      return 0;
    } catch (error) {
      if (error instanceof FitError) return refuse(context, `${error.code}: ${error.message}`);
      throw error;
    }
  });
}

function refuse(context: CommandContext, message: string): number {
  context.err(`refused: ${message}`);
  return 1;
}

/** Rated examples, one JSON object a line: chat messages or a completion prompt, and the correct label. */
function readExamples(path: string): Array<{ input: GenerationInput; label: string }> {
  const lines = readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "");
  return lines.map((line, i) => {
    let row: { messages?: ChatMessage[]; prompt?: string; label?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch (error) {
      throw new UsageError(`${path}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    if (typeof row.label !== "string") throw new UsageError(`${path}:${i + 1}: "label" must be a string`);
    if (typeof row.prompt === "string") return { input: { kind: "completion", prompt: row.prompt }, label: row.label };
    const valid = Array.isArray(row.messages) && row.messages.every((m) => ["system", "user", "assistant"].includes(m?.role) && typeof m?.content === "string");
    if (!valid) throw new UsageError(`${path}:${i + 1}: needs "messages" (role, content) or "prompt"`);
    return { input: { kind: "chat", messages: row.messages! }, label: row.label };
  });
}
