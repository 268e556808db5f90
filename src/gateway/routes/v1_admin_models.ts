import type { Context, Hono } from "hono";
import { z } from "zod";
import { systemEvent } from "../../audit/events.js";
import { ModelEntrySchema, ManifestError } from "../../models/manifest.js";
import type { ServingChange } from "../../pipeline/live-models.js";
import type { PinsReload } from "../../pipeline/model-pins.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps, ModelAdmin } from "../deps.js";
import { ApiError } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";

export const ModelPath = z.strictObject({ id: ModelEntrySchema.shape.id });
export const UnloadQuery = z.strictObject({
  drain_timeout_ms: z.coerce.number().int().min(0).max(3_600_000).optional()
    .describe("how long the requests it admitted may run on before they are cut off (503 model_drain_timeout); default models.drainTimeoutMs"),
});

const RELOAD = "POST /v1/admin/models/reload";
const UNLOAD = "POST /v1/admin/models/:id/unload";
const LOAD = "POST /v1/admin/models/:id/load";

/**
 * Models on a running gateway, without a restart, each call audited with who asked; the site operator's (scope
 * operator), since every tenant is served by them:
 * - POST /v1/admin/models/reload looks at the pins now rather than within the watcher's second: new ids are
 *   hosted, changed pins replace the served ones once loaded, unpinned models leave and drain (`models.reloaded`).
 *   A manifest that cannot be read is refused with why, and nothing changes.
 * - POST /v1/admin/models/:id/unload stops serving a pinned model until it is loaded again, on this gateway at once
 *   and on every gateway and worker of the database within models.serviceStateRefreshMs; what each admitted
 *   finishes first (`models.unloaded`, queued in the same transaction as the stored choice).
 * - POST /v1/admin/models/:id/load hosts an unloaded model again, as pinned now, here and everywhere else alike
 *   (`models.loaded`).
 */
export function registerAdminModels(app: Hono, deps: Pick<GatewayDeps, "models" | "audit">, admin: ModelAdmin): void {
  app.post("/v1/admin/models/reload", requireScope("operator"), async (c) => {
    let result: PinsReload;
    try {
      result = admin.reload();
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      await deps.audit.record(systemEvent("models.reloaded", { ...who(c, RELOAD), outcome: { status: "refused", code: "manifest_invalid" }, detail: { problem: error.message } }));
      throw new ApiError(422, "invalid_request_error", "manifest_invalid", `${error.message}; the models served stay as they are`);
    }
    const listed = new Map(deps.models.list().map((entry) => [entry.model.id, entry]));
    const added = result.added.map((id) => listed.get(id)!);
    await deps.audit.record(systemEvent("models.reloaded", {
      ...who(c, RELOAD), outcome: { status: "succeeded" },
      detail: { added: added.map(({ model }) => ({ id: model.id, sha256: model.sha256 })), replaced: result.replaced, removed: result.removed, refused: result.refused },
    }));
    return c.json({
      object: "models.reload",
      added: added.map(({ model, status }) => ({ id: model.id, sha256: model.sha256, state: status.state })),
      replaced: result.replaced.map(({ id, sha256, previousSha256, state }) => ({ id, sha256, previous_sha256: previousSha256, state })),
      removed: result.removed,
      refused: result.refused,
    });
  });

  app.post("/v1/admin/models/:id/unload", requireScope("operator"), async (c) => {
    const { id } = parseParams(ModelPath, c.req.param());
    const { drain_timeout_ms: drainTimeoutMs } = parseParams(UnloadQuery, c.req.query());
    const change = await admin.unload(id, drainTimeoutMs, {
      updatedBy: c.get("principal").subject,
      audit: (before) => systemEvent("models.unloaded", {
        ...who(c, UNLOAD), model: { id, sha256: before.model.sha256 }, outcome: { status: "succeeded" },
        detail: { inFlight: before.status.inFlight, queued: before.status.queued, ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) },
      }),
    });
    return c.json(serving("model.unload", change));
  });

  app.post("/v1/admin/models/:id/load", requireScope("operator"), async (c) => {
    const { id } = parseParams(ModelPath, c.req.param());
    const change = await admin.load(id, {
      updatedBy: c.get("principal").subject,
      audit: (before) => systemEvent("models.loaded", { ...who(c, LOAD), model: { id, sha256: before.model.sha256 }, outcome: { status: "succeeded" } }),
    });
    return c.json(serving("model.load", change));
  });
}

function who(c: Context, endpoint: string) {
  return { actor: actorOf(c), request: { id: c.get("requestId"), endpoint } };
}

function serving(object: "model.unload" | "model.load", { model, status }: ServingChange) {
  return { object, id: model.id, sha256: model.sha256, state: status.state, in_flight: status.inFlight, queued: status.queued };
}
