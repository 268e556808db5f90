import type { Hono } from "hono";
import { z } from "zod";
import type { AdaptationAdmin } from "../../adaptation/index.js";
import { AdaptationLearner } from "../../adaptation/learner.js";
import { STRATEGIES } from "../../adaptation/strategies.js";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";

const ACTIONS = ["freeze", "unfreeze", "reset"] as const;
export const ListQuery = z.strictObject({ task_class: z.string().min(1).max(200).optional() });

/**
 * Adaptation: the caller's tenant's task classes with the strategies, sampling preset, max_tokens and adapter each
 * model would get now (what was learned, without exploration; scope admin or operator), and, for the site's operator, freeze
 * (keep applying what was learned, learn nothing more; ratings are still kept), unfreeze, reset (forget it all):
 * one learner serves every tenant, so a tenant's admin may not stop or wipe it. Each change is audited as
 * `adaptation.changed` with who made it.
 */
export function registerAdminAdaptation(app: Hono, deps: GatewayDeps): void {
  const admin = (): AdaptationAdmin => {
    if (deps.adaptation === undefined) throw new ApiError(404, "not_found_error", "adaptation_disabled", "adaptation is off on this gateway (adaptation.enabled: false)", null);
    return deps.adaptation.admin;
  };

  app.get("/v1/admin/adaptation", requireScope("admin", "operator"), (c) => {
    const query = parseParams(ListQuery, c.req.query());
    const { learner, adapters, state } = admin();
    const tenant = c.get("principal").tenant;
    const classes = learner.list()
      .filter((entry) => entry.tenant === tenant && (query.task_class === undefined || entry.taskClass === query.task_class))
      .sort((a, b) => a.taskClass.localeCompare(b.taskClass))
      .map((entry) => ({
        task_class: entry.taskClass,
        feedback: entry.feedback,
        rated: entry.rated,
        models: Object.entries(entry.models).map(([modelId, model]) => {
          // What a request of the class gets now, every strategy being possible (the frozen choice).
          const strategies = learner.chooseStrategies(tenant, entry.taskClass, modelId, STRATEGIES, null);
          const preset = strategies.includes("parameters") ? learner.choosePreset(tenant, entry.taskClass, modelId, null) : null;
          // The adapter a request at the highest level would get: the tenant's own, whatever data it was fitted on.
          const adapter = adapters.current(modelId, entry.taskClass, { tenant, classification: "secret" });
          return {
            model: modelId,
            strategies,
            // Null while learned parameters are not applied: the operator's defaults hold.
            preset: preset?.id ?? null,
            parameters: preset?.sampling ?? null,
            max_tokens: preset === null ? null : learner.learnedMaxTokens(tenant, entry.taskClass, modelId),
            adapter: adapter === null ? null : { id: adapter.id, sha256: adapter.sha256, version: adapter.version, tenant_only: adapter.tenant !== null },
            learned: AdaptationLearner.summary(model),
          };
        }),
      }));
    return c.json({ object: "adaptation.state", ...state(), tenant, classes });
  });

  for (const action of ACTIONS) {
    app.post(`/v1/admin/adaptation/${action}`, requireScope("operator"), async (c) => {
      const control = admin();
      const before = control.state();
      await control[action]();
      const after = control.state();
      const summary = (s: typeof before) => ({ frozen: s.frozen, version: s.version, classes: s.classes });
      await deps.audit.record(systemEvent("adaptation.changed", {
        actor: actorOf(c),
        request: { id: c.get("requestId"), endpoint: `POST /v1/admin/adaptation/${action}` },
        detail: { action, before: summary(before), after: summary(after) },
      }));
      return c.json({ object: "adaptation.state", ...after });
    });
  }
}
