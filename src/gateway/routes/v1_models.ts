import type { Hono } from "hono";
import type { GatewayDeps } from "../deps.js";
import { notFound } from "../errors.js";
import type { ListedModel } from "../../pipeline/model-directory.js";
import { AUTO_MODEL } from "../../pipeline/routing.js";

const STARTED = Math.floor(Date.now() / 1000);

function describe({ model, status }: ListedModel) {
  return {
    id: model.id,
    object: "model",
    created: STARTED,
    owned_by: "atomic",
    atomic: {
      state: status.state,
      ...(status.reasonCode ? { reason_code: status.reasonCode, reason: status.reason } : {}),
      capabilities: model.capabilities,
      sha256: model.sha256,
      size_bytes: model.sizeBytes,
      context_length: model.contextLength,
      cost: { unit: model.cost.unit, per_1k_prompt_tokens: model.cost.per1kPromptTokens, per_1k_completion_tokens: model.cost.per1kCompletionTokens },
      test_model: model.testModel,
      ...(model.description ? { description: model.description } : {}),
    },
  };
}

/** `auto`: not a file but the bidding among the models that can do the work; listed so clients can pick it. */
function describeAuto(models: ListedModel[]) {
  const capabilities = [...new Set(models.flatMap(({ model }) => model.capabilities.filter((c) => c !== "embedding")))];
  return {
    id: AUTO_MODEL,
    object: "model",
    created: STARTED,
    owned_by: "atomic",
    atomic: {
      routing: "bidding",
      capabilities,
      candidates: models.filter(({ model }) => model.capabilities.some((c) => c !== "embedding")).map(({ model }) => model.id),
    },
  };
}

/** GET /v1/models and /v1/models/:id — OpenAI's listing, with Atomic's pinning and health under `atomic`. */
export function registerModels(app: Hono, deps: GatewayDeps): void {
  app.get("/v1/models", (c) => {
    const models = deps.models.list();
    return c.json({ object: "list", data: [...models.map(describe), describeAuto(models)] });
  });
  app.get("/v1/models/:id", (c) => {
    if (c.req.param("id") === AUTO_MODEL) return c.json(describeAuto(deps.models.list()));
    const listed = deps.models.list().find((m) => m.model.id === c.req.param("id"));
    if (!listed) throw notFound("model_not_found", `model ${c.req.param("id")} does not exist`, "id");
    return c.json(describe(listed));
  });
}
