import type { Hono } from "hono";
import { runGeneration, type GenerationRequest } from "../../pipeline/generate.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { assistantMessage, finishReasonOf, toolCallDeltas } from "../openai/chat-answer.js";
import { chatTools, chatTurns } from "../openai/chat-request.js";
import { chatLogprobs, logprobsParam } from "../openai/logprobs.js";
import { choiceCount, choicesUsage, runChoices } from "../openai/choices.js";
import { adaptationOptions, ChatCompletionRequestSchema, stopList } from "../openai/requests.js";
import { streamRoutedGeneration } from "../sse.js";
import { readBody } from "../validation.js";
import { usageOf } from "../openai/usage.js";

/**
 * POST /v1/chat/completions — OpenAI-compatible, with SSE streaming, grammar-constrained JSON output, tool calling
 * and `n` answers (each its own execution; the header names them all, in order).
 */
export function registerChatCompletions(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/chat/completions", requireScope("infer"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, ChatCompletionRequestSchema);
    const messages = chatTurns(body.messages);
    const { structured, recorded } = chatTools(body);
    const logprobs = logprobsParam(body.logprobs === true, body.top_logprobs, body.tools !== undefined, { wanted: "logprobs", top: "top_logprobs" });
    const n = choiceCount(body);
    const executionIds = Array.from({ length: n }, () => uuidv7());
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl-${executionIds[0]}`;
    c.header("x-atomic-execution-id", executionIds.join(", "));
    const requestFor = (index: number, model: string | undefined): GenerationRequest => ({
      executionId: executionIds[index]!,
      requestId: c.get("requestId"),
      actor: actorOf(c),
      policy: policySubjectOf(c),
      endpoint: "chat.completions",
      model: model ?? body.model,
      input: { kind: "chat", messages },
      ...(recorded === undefined ? {} : { recordedInput: { kind: "chat", messages, ...recorded } }),
      options: {
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        // Each answer draws its own tokens: the caller's seed, then the next ones.
        seed: body.seed == null ? undefined : body.seed + index,
        stop: stopList(body.stop),
        ...adaptationOptions(body),
        ...(logprobs === undefined ? {} : { logprobs }),
      },
      structured,
      ...(body.user === undefined ? {} : { endUser: body.user }),
      signal: c.req.raw.signal,
      // The first answer's model and routing decision are the response's.
      ...(index === 0 ? { onModel: (_model, decision) => setRoutingHeaders(c, decision) } : {}),
    });

    if (!body.stream) {
      const outcomes = await runChoices(n, (index, model) => runGeneration(deps, requestFor(index, model)));
      return c.json({
        id,
        object: "chat.completion",
        created,
        model: outcomes[0]!.model.id,
        choices: outcomes.map((outcome, index) => ({ index, message: assistantMessage(outcome), logprobs: chatLogprobs(outcome), finish_reason: finishReasonOf(outcome) })),
        usage: usageOf(choicesUsage(outcomes)),
        system_fingerprint: null,
      });
    }

    return streamRoutedGeneration(c, deps, requestFor(0, undefined), (model) => {
      const chunk = (delta: Record<string, unknown>, finishReason: string | null, logprobs: unknown = null) => ({
        id, object: "chat.completion.chunk", created, model: model(), system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
      });
      return {
        // An answer of calls only opens with its first call (toolCallDeltas), as OpenAI's does.
        opening: (ended) => (ended?.toolCalls ? [] : [chunk({ role: "assistant", content: "" }, null)]),
        text: (text) => chunk({ content: text }, null),
        closing: (outcome) => [
          ...(outcome.toolCalls ? toolCallDeltas(outcome.toolCalls).map((delta) => chunk(delta, null)) : []),
          // Tokens are scored once the answer is complete: their log-probabilities come with the last chunk.
          chunk({}, finishReasonOf(outcome), chatLogprobs(outcome)),
          ...(body.stream_options?.include_usage
            ? [{ id, object: "chat.completion.chunk", created, model: model(), system_fingerprint: null, choices: [], usage: usageOf(outcome) }]
            : []),
        ],
      };
    });
  });
}
