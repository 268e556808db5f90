import type { Hono } from "hono";
import { runGeneration, type GenerationRequest } from "../../pipeline/generate.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { choiceCount, choicesUsage, runChoices } from "../openai/choices.js";
import { completionLogprobs, type CompletionLogprobs } from "../openai/logprobs.js";
import { adaptationOptions, CompletionRequestSchema, stopList } from "../openai/requests.js";
import { streamRoutedGeneration } from "../sse.js";
import { readBody } from "../validation.js";
import { usageOf } from "../openai/usage.js";

/** POST /v1/completions — OpenAI's legacy text completion, non-streaming and SSE; `n` answers as for chat. */
export function registerCompletions(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/completions", requireScope("infer"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, CompletionRequestSchema);
    const n = choiceCount(body);
    const executionIds = Array.from({ length: n }, () => uuidv7());
    const created = Math.floor(Date.now() / 1000);
    const id = `cmpl-${executionIds[0]}`;
    c.header("x-atomic-execution-id", executionIds.join(", "));
    const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
    const requestFor = (index: number, model: string | undefined): GenerationRequest => ({
      executionId: executionIds[index]!,
      requestId: c.get("requestId"),
      actor: actorOf(c),
      policy: policySubjectOf(c),
      endpoint: "completions",
      model: model ?? body.model,
      input: { kind: "completion", prompt },
      options: {
        maxTokens: body.max_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        // Each answer draws its own tokens: the caller's seed, then the next ones.
        seed: body.seed == null ? undefined : body.seed + index,
        stop: stopList(body.stop),
        ...adaptationOptions(body),
        ...(body.logprobs == null ? {} : { logprobs: body.logprobs }),
      },
      ...(body.user === undefined ? {} : { endUser: body.user }),
      signal: c.req.raw.signal,
      ...(index === 0 ? { onModel: (_model, decision) => setRoutingHeaders(c, decision) } : {}),
    });

    if (!body.stream) {
      const outcomes = await runChoices(n, (index, model) => runGeneration(deps, requestFor(index, model)));
      return c.json({
        id,
        object: "text_completion",
        created,
        model: outcomes[0]!.model.id,
        choices: outcomes.map((outcome, index) => ({ index, text: outcome.text, logprobs: completionLogprobs(outcome.logprobs), finish_reason: outcome.finishReason })),
        usage: usageOf(choicesUsage(outcomes)),
      });
    }

    return streamRoutedGeneration(c, deps, requestFor(0, undefined), (model) => {
      const chunk = (text: string, finishReason: string | null, logprobs: CompletionLogprobs | null = null) => ({
        id, object: "text_completion", created, model: model(),
        choices: [{ index: 0, text, logprobs, finish_reason: finishReason }],
      });
      return {
        opening: () => [],
        text: (text) => chunk(text, null),
        closing: (outcome) => [
          // Tokens are scored once the answer is complete: their log-probabilities come with the last chunk.
          chunk("", outcome.finishReason, completionLogprobs(outcome.logprobs)),
          ...(body.stream_options?.include_usage ? [{ id, object: "text_completion", created, model: model(), choices: [], usage: usageOf(outcome) }] : []),
        ],
      };
    });
  });
}
