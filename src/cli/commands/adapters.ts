import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
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

export const ADAPTER_USAGE = `usage: atomic models add-adapter FILE --base MODEL [--task CLASS] [--id ID] [--scale S] [--candidate]
       atomic models adapters                          list pinned adapters
       atomic models adapter promote ID                put a pinned adapter in service for its task class
       atomic models adapter rollback --base MODEL [--task CLASS] [--tenant T]
                                                       undo the last promotion (the one before serves again)
       atomic models adapter fit --base MODEL --examples FILE.jsonl [--task CLASS] [--labels a,b,...] [--seed N]
                                                       fit an adapter from rated examples, one JSON object a line:
                                                       {"messages": [...], "label": "x"} or {"prompt": "...", "label": "x"}
Changes that put an adapter in service or take one out are audited (adapter.promoted, adapter.fitted) in the
database, a running gateway's embedded one included. A running gateway follows the manifest within a second.`;

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

function baseModelOf(context: CommandContext, id: string | undefined) {
  if (id === undefined) throw new UsageError(`--base MODEL is required\n${ADAPTER_USAGE}`);
  const model = catalogFromConfig(context.config, { testModelWhenEmpty: false }).find((m) => m.id === id);
  if (!model) throw new UsageError(`no model ${id} is pinned (atomic models list)`);
  return model;
}

export async function addAdapterCommand(context: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { base: { type: "string" }, task: { type: "string" }, id: { type: "string" }, scale: { type: "string" }, candidate: { type: "boolean" }, description: { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError(ADAPTER_USAGE);
  const base = baseModelOf(context, values.base);
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale > 0 && scale <= 100)) throw new UsageError("--scale must be a number above 0 and at most 100");
  const add = async (record?: (event: AuditEvent) => Promise<void>) => {
    try {
      const { entry, change } = await addAdapter({
        manifestPath: context.config.models.manifest,
        file: positionals[0]!,
        baseModel: base,
        taskClass: values.task ?? null,
        ...(values.id === undefined ? {} : { id: values.id }),
        ...(scale === undefined ? {} : { scale }),
        ...(values.candidate ? { candidate: true } : {}),
        ...(values.description === undefined ? {} : { description: values.description }),
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
  return values.candidate ? add() : audited(context, add);
}

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

export async function adapterCommand(context: CommandContext, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { base: { type: "string" }, task: { type: "string" }, tenant: { type: "string" }, examples: { type: "string" }, labels: { type: "string" }, seed: { type: "string" } },
  });
  const manifestPath = context.config.models.manifest;
  switch (action) {
    case "promote": {
      if (positionals.length !== 1) throw new UsageError(ADAPTER_USAGE);
      const entry = (loadManifest(manifestPath).adapters ?? []).find((a) => a.id === positionals[0]);
      if (!entry) return refuse(context, `no adapter with id ${positionals[0]} is pinned`);
      const base = catalogFromConfig(context.config, { testModelWhenEmpty: false }).find((m) => m.id === entry.baseModel);
      return audited(context, async (record) => {
        const change = promoteAdapter(manifestPath, entry.id);
        await record(promotedEvent(change, "operator", entry, base?.sha256));
        context.out(`promoted ${entry.id} for ${describeSlot(entry)}${change.previous ? ` (retired ${change.previous.id})` : ""}`);
        return 0;
      });
    }
    case "rollback": {
      const base = baseModelOf(context, values.base);
      const slot: AdapterSlot = { baseModel: base.id, taskClass: values.task ?? null, ...(values.tenant === undefined ? {} : { tenant: values.tenant }) };
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
    case "fit": {
      const base = baseModelOf(context, values.base);
      if (values.examples === undefined) throw new UsageError(ADAPTER_USAGE);
      const examples = readExamples(values.examples);
      const labels = values.labels?.split(",").map((l) => l.trim()) ?? [...new Set(examples.map((e) => e.label))];
      return audited(context, async (record) => {
        const service = new AdapterFitService({ manifestPath, models: [base], record, threads: context.config.inference.threads });
        try {
          const outcome = await service.fit({
            baseModel: base.id,
            taskClass: values.task ?? null,
            labels,
            examples,
            actor: { subject: consoleOperator() },
            ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
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
    default:
      throw new UsageError(ADAPTER_USAGE);
  }
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
