import type { Hono } from "hono";
import { runEmbedding } from "../../pipeline/embed.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { EmbeddingRequestSchema } from "../openai/requests.js";
import { readBody } from "../validation.js";

/** OpenAI's base64 encoding: the float32 little-endian bytes of the vector. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

/** POST /v1/embeddings — the official client asks for base64 by default, so both encodings are served. */
export function registerEmbeddings(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/embeddings", requireScope("embed"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, EmbeddingRequestSchema);
    const executionId = uuidv7();
    c.header("x-atomic-execution-id", executionId);
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const outcome = await runEmbedding(deps, { executionId, requestId: c.get("requestId"), actor: actorOf(c), policy: policySubjectOf(c), model: body.model, inputs, ...(body.user === undefined ? {} : { endUser: body.user }), signal: c.req.raw.signal });
    return c.json({
      object: "list",
      data: outcome.vectors.map((vector, index) => ({
        object: "embedding",
        index,
        embedding: body.encoding_format === "base64" ? toBase64(vector) : vector,
      })),
      model: outcome.model.id,
      usage: { prompt_tokens: outcome.promptTokens, total_tokens: outcome.promptTokens },
    });
  });
}
