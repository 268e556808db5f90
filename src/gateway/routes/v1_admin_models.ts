import type { Hono } from "hono";
import { systemEvent } from "../../audit/events.js";
import type { PinsReload } from "../../pipeline/model-pins.js";
import { ManifestError } from "../../models/manifest.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";

const ENDPOINT = "POST /v1/admin/models/reload";

/**
 * POST /v1/admin/models/reload — looks at the pinned models now rather than within the watcher's second: each
 * newly pinned model gets a host and is answered as loading (GET /v1/models/:id says when it is ready); pins that
 * changed or went for models being served are listed, and take effect at the next restart. A manifest that cannot
 * be read is refused with why, and nothing changes. Audited either way as `models.reloaded`.
 */
export function registerAdminModels(app: Hono, deps: Pick<GatewayDeps, "models" | "audit">, pins: { reload(): PinsReload }): void {
  app.post("/v1/admin/models/reload", requireScope("admin"), async (c) => {
    const actor = actorOf(c);
    const request = { id: c.get("requestId"), endpoint: ENDPOINT };
    let result: PinsReload;
    try {
      result = pins.reload();
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      await deps.audit.record(systemEvent("models.reloaded", { actor, request, outcome: { status: "refused", code: "manifest_invalid" }, detail: { problem: error.message } }));
      throw new ApiError(422, "invalid_request_error", "manifest_invalid", `${error.message}; the models served stay as they are`);
    }
    const listed = new Map(deps.models.list().map((entry) => [entry.model.id, entry]));
    const added = result.added.map((id) => listed.get(id)!);
    await deps.audit.record(systemEvent("models.reloaded", {
      actor, request, outcome: { status: "succeeded" },
      detail: { added: added.map(({ model }) => ({ id: model.id, sha256: model.sha256 })), restartNeeded: result.restartNeeded },
    }));
    return c.json({
      object: "models.reload",
      added: added.map(({ model, status }) => ({ id: model.id, sha256: model.sha256, state: status.state })),
      restart_needed: result.restartNeeded,
    });
  });
}
