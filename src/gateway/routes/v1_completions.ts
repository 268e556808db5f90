import type { Hono } from "hono";
import { runGeneration, type GenerationRequest } from "../../pipeline/generate.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { adaptationOptions, CompletionRequestSchema, stopList } from "../openai/requests.js";
import { streamRoutedGeneration } from "../sse.js";
import { readBody } from "../validation.js";
import { usageOf } from "../openai/usage.js";

/** POST /v1/completions — OpenAI's legacy text completion, non-streaming and SSE. */
export function registerCompletions(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/completions", requireScope("infer"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, CompletionRequestSchema);
    const executionId = uuidv7();
    const created = Math.floor(Date.now() / 1000);
    const id = `cmpl-${executionId}`;
    c.header("x-atomic-execution-id", executionId);
    const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
    const request: GenerationRequest = {
      executionId,
      requestId: c.get("requestId"),
      actor: actorOf(c),
      policy: policySubjectOf(c),
      endpoint: "completions",
      model: body.model,
      input: { kind: "completion", prompt },
      options: {
        maxTokens: body.max_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        seed: body.seed ?? undefined,
        stop: stopList(body.stop),
        ...adaptationOptions(body),
      },
      signal: c.req.raw.signal,
      onModel: (_model, decision) => setRoutingHeaders(c, decision),
    };

    if (!body.stream) {
      const outcome = await runGeneration(deps, request);
      return c.json({
        id,
        object: "text_completion",
        created,
        model: outcome.model.id,
        choices: [{ index: 0, text: outcome.text, logprobs: null, finish_reason: outcome.finishReason }],
        usage: usageOf(outcome),
      });
    }

    return streamRoutedGeneration(c, deps, request, (model) => {
      const chunk = (text: string, finishReason: string | null) => ({
        id, object: "text_completion", created, model: model(),
        choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
      });
      return {
        opening: () => [],
        text: (text) => chunk(text, null),
        closing: (outcome) => [
          chunk("", outcome.finishReason),
          ...(body.stream_options?.include_usage ? [{ id, object: "text_completion", created, model: model(), choices: [], usage: usageOf(outcome) }] : []),
        ],
      };
    });
  });
}
