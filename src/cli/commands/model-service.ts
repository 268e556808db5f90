import { systemEvent } from "../../audit/events.js";
import { catalogFromConfig } from "../../bootstrap/catalog.js";
import { openDatabase } from "../../bootstrap/database.js";
import { PostgresModelServiceStore } from "../../models/service/postgres.js";
import type { CommandContext } from "../context.js";
import { consoleOperator } from "../operator.js";

/*
 * `atomic models unload|load ID`: an operator's choice that a pinned model be out of service or in service again,
 * as POST /v1/admin/models/:id/unload|load makes it, from the console. Written to the database (a running
 * gateway's embedded server joined) with its audit event in one transaction; every gateway and `atomic worker` of
 * the database applies it within models.serviceStateRefreshMs (src/pipeline/model-service.ts), draining what a
 * host admitted first. A gateway restarted later keeps to it.
 */

export async function unloadModelCommand(context: CommandContext, _options: unknown, id: string): Promise<number> {
  return setService(context, id, true);
}

export async function loadModelCommand(context: CommandContext, _options: unknown, id: string): Promise<number> {
  return setService(context, id, false);
}

async function setService(context: CommandContext, id: string, unloaded: boolean): Promise<number> {
  // The pins as every gateway of this configuration reads them; the generated test model is never pinned.
  const pinned = catalogFromConfig(context.config, { testModelWhenEmpty: false }).find((model) => model.id === id);
  if (pinned === undefined) {
    context.err(`no model ${id} is pinned (atomic models list shows the pins)`);
    return 1;
  }
  const state = unloaded ? "unloaded" : "in service";
  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  try {
    const store = new PostgresModelServiceStore(database.stores.pool);
    const stored = (await store.list()).find((row) => row.modelId === id);
    if ((stored?.unloaded ?? false) === unloaded) {
      context.out(`${id} is ${state} already`);
      return 0;
    }
    const operator = consoleOperator();
    await store.set({ modelId: id, unloaded, sha256: pinned.sha256, updatedBy: operator }, () =>
      systemEvent(unloaded ? "models.unloaded" : "models.loaded", {
        actor: { subject: operator },
        model: { id, sha256: pinned.sha256 },
        outcome: { status: "succeeded" },
      }));
    context.out(`${id} ${state}: every gateway and atomic worker of this database follows within ${context.config.models.serviceStateRefreshMs} ms`);
    return 0;
  } finally {
    await database.close();
  }
}
