import type { Hono } from "hono";
import type { ChatMessage } from "../../inference/interface.js";
import { runGeneration, type GenerationRequest } from "../../pipeline/generate.js";
import type { StructuredSpec } from "../../pipeline/structured.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { adaptationOptions, ChatCompletionRequestSchema, stopList, type ChatCompletionRequest } from "../openai/requests.js";
import { streamRoutedGeneration } from "../sse.js";
import { readBody } from "../validation.js";
import { usageOf } from "../openai/usage.js";

function toMessages(body: ChatCompletionRequest): ChatMessage[] {
  return body.messages.map((m) => ({
    // OpenAI's "developer" role is the newer name for "system".
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join(""),
  }));
}

function structuredSpec(body: ChatCompletionRequest): StructuredSpec | undefined {
  const format = body.response_format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { kind: "json_object" };
  return { kind: "json_schema", schema: format.json_schema.schema, ref: null, param: "response_format.json_schema.schema" };
}

/** POST /v1/chat/completions — OpenAI-compatible, with SSE streaming and grammar-constrained JSON output. */
export function registerChatCompletions(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/chat/completions", requireScope("infer"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, ChatCompletionRequestSchema);
    const executionId = uuidv7();
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl-${executionId}`;
    c.header("x-atomic-execution-id", executionId);
    const request: GenerationRequest = {
      executionId,
      requestId: c.get("requestId"),
      actor: actorOf(c),
      policy: policySubjectOf(c),
      endpoint: "chat.completions",
      model: body.model,
      input: { kind: "chat", messages: toMessages(body) },
      options: {
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        seed: body.seed ?? undefined,
        stop: stopList(body.stop),
        ...adaptationOptions(body),
      },
      structured: structuredSpec(body),
      signal: c.req.raw.signal,
      onModel: (_model, decision) => setRoutingHeaders(c, decision),
    };

    if (!body.stream) {
      const outcome = await runGeneration(deps, request);
      return c.json({
        id,
        object: "chat.completion",
        created,
        model: outcome.model.id,
        choices: [{ index: 0, message: { role: "assistant", content: outcome.text, refusal: null }, logprobs: null, finish_reason: outcome.finishReason }],
        usage: usageOf(outcome),
        system_fingerprint: null,
      });
    }

    return streamRoutedGeneration(c, deps, request, (model) => {
      const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
        id, object: "chat.completion.chunk", created, model: model(), system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      });
      return {
        opening: () => [chunk({ role: "assistant", content: "" }, null)],
        text: (text) => chunk({ content: text }, null),
        closing: (outcome) => [
          chunk({}, outcome.finishReason),
          ...(body.stream_options?.include_usage
            ? [{ id, object: "chat.completion.chunk", created, model: model(), system_fingerprint: null, choices: [], usage: usageOf(outcome) }]
            : []),
        ],
      };
    });
  });
}
