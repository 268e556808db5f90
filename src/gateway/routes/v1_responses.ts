import type { Hono } from "hono";
import { runGeneration, type GenerationRequest } from "../../pipeline/generate.js";
import type { PolicySubject } from "../../pipeline/policy-gate.js";
import { higherClassification } from "../../policy/classification.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { invalidRequest } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { logprobsParam, RESPONSES_LOGPROBS } from "../openai/logprobs.js";
import { adaptationOptions } from "../openai/requests.js";
import { createdAtOf, echoOf, finishedResponse, ResponseEvents, type ResponseHead } from "../openai/responses-answer.js";
import { responseHistory, type RecordedConversation, type ResponseHistory } from "../openai/responses-history.js";
import { responsesTools, responsesTurns } from "../openai/responses-input.js";
import { ResponsesRequestSchema, type ResponsesRequest } from "../openai/responses-request.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import { streamRoutedGeneration } from "../sse.js";
import { readBody } from "../validation.js";

/**
 * POST /v1/responses — OpenAI's Responses API on the chat generation: the input items become chat turns (after those
 * of the response `previous_response_id` names, read from its record), the tools and `text.format` the same
 * grammar-held output, one execution per response (its id is the response's). Whole, or as the Responses event stream.
 */
export function registerResponses(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/responses", requireScope("infer"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, ResponsesRequestSchema);
    refuseUnstored(body);
    if (body.max_output_tokens != null && body.max_output_tokens > deps.limits.maxTokensLimit) {
      throw invalidRequest("max_tokens_too_large", `max_output_tokens may be at most ${deps.limits.maxTokensLimit}`, "max_output_tokens");
    }
    const actor = actorOf(c);
    const history = body.previous_response_id == null ? undefined : await responseHistory(deps.executions, actor.tenant, body.previous_response_id);
    const messages = responsesTurns(body, history);
    // What a response that continues this one reads back (responses-history.ts).
    const conversation: RecordedConversation = {
      kind: "chat",
      messages,
      instructions: body.instructions != null,
      ...(history ? { previousResponseId: history.responseId } : {}),
    };
    const { structured, recorded } = responsesTools(body);
    const logprobs = logprobsParam(body.include?.includes(RESPONSES_LOGPROBS) ?? false, body.top_logprobs, (body.tools?.length ?? 0) > 0, { wanted: "include", top: "top_logprobs" });
    const executionId = uuidv7();
    const head: ResponseHead = { executionId, createdAt: createdAtOf(executionId), echo: echoOf(body) };
    c.header("x-atomic-execution-id", executionId);
    const request: GenerationRequest = {
      executionId,
      requestId: c.get("requestId"),
      actor,
      policy: continuing(policySubjectOf(c), history),
      endpoint: "responses",
      model: body.model,
      input: { kind: "chat", messages },
      // The echo (redacted with the rest) is what GET /v1/responses/:id answers with again.
      recordedInput: { ...conversation, ...recorded, ...(body.metadata == null ? {} : { metadata: body.metadata }), echo: head.echo },
      options: {
        maxTokens: body.max_output_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        ...adaptationOptions(body),
        ...(logprobs === undefined ? {} : { logprobs }),
      },
      structured,
      ...(body.user === undefined ? {} : { endUser: body.user }),
      ...(history ? { continues: history.executionId } : {}),
      signal: c.req.raw.signal,
      onModel: (_model, decision) => setRoutingHeaders(c, decision),
    };

    if (!body.stream) return c.json(finishedResponse(head, await runGeneration(deps, request)));

    return streamRoutedGeneration(c, deps, request, (model) => {
      const events = new ResponseEvents(head, model);
      return {
        opening: (ended) => events.opening(ended?.toolCalls !== undefined),
        text: (chunk) => events.delta(chunk),
        closing: (outcome) => events.closing(outcome),
        failure: (error) => events.failure(error),
        eventName: (frame) => (frame as { type: string }).type,
        done: false,
      };
    });
  });
}

/**
 * A response that continues another is handled at least at the classification that one was: the conversation it
 * carries on is that data, whatever the new request's header says.
 */
function continuing(subject: PolicySubject, history: ResponseHistory | undefined): PolicySubject {
  if (history?.classification == null) return subject;
  return { ...subject, classification: higherClassification(subject.classification, history.classification) };
}

/** Every execution is stored (its record and audit event), so `store: false` cannot be honoured. */
function refuseUnstored(body: ResponsesRequest): void {
  if (body.store === false) {
    throw invalidRequest("store_unsupported", "every execution is stored (its record and audit event): store: false cannot be honoured; content is removed by erasure", "store");
  }
}
