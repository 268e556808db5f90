import { z } from "zod";
import { ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema } from "../openai/requests.js";
import { ResponsesRequestSchema } from "../openai/responses-request.js";
import { ResponsePath } from "../routes/v1_responses_get.js";
import { ListQuery } from "../routes/v1_admin_adaptation.js";
import { FitRequest, JobParams } from "../routes/v1_admin_adaptation_fits.js";
import { ErasureRequest } from "../routes/v1_admin_erasure.js";
import { ConsistencyQuery, ExportQuery, NoQuery, ReceiptPath, ReceiptQuery } from "../routes/v1_audit.js";
import { EventsQuery } from "../routes/v1_events.js";
import { ExecutionPath } from "../routes/v1_executions_receipt.js";
import { TaskPath } from "../routes/v1_tasks_get.js";
import { FeedbackRequest } from "../routes/v1_feedback.js";
import { RegisterSchemaRequest, SchemaPath } from "../routes/v1_schemas.js";
import { TaskRequest } from "../routes/v1_tasks.js";
import { CreateRequest as ApiKeyCreateRequest, KeyParams } from "../routes/v1_admin_apikeys.js";
import { SettingsRequest, TenantPath } from "../routes/v1_admin_tenants.js";
import { ModelPath, UnloadQuery } from "../routes/v1_admin_models.js";
import { AdapterFit, AdaptationControl, AdaptationState, ApiKey, ApiKeyIssued, ApiKeyList, BiddingState, BiddingTraining, Erasure, ModelServing, ModelsReload, PolicyReload, TenantSettings } from "./answers/admin.js";
import { ChatCompletion, ChatCompletionChunk, EmbeddingList, Model, ModelList, ResponseObject, ResponseStreamEvent, TextCompletion, TextCompletionChunk } from "./answers/openai.js";
import { AuditConsistency, AuditEventData, AuditReceipt, Liveness, OpenApiOutline, Readiness, SchemaList, SchemaRecord } from "./answers/records.js";
import { Decision, Execution, Feedback, Task, TaskAccepted, TaskCancelling, TaskEvent, TaskResult } from "./answers/tasks.js";
import { requestSchema } from "./registry.js";
import { AdminAudit, AdminOverview, AuditKeys, BiddingHistory, ExecutionSummaryList } from "./answers/dashboard.js";
import { BiddingHistoryParams } from "../routes/v1_admin_bidding.js";
import { ExecutionListParams } from "../routes/v1_admin_executions.js";

/** Response headers the document names (components.headers). */
export const HEADERS = {
  "x-atomic-execution-id": "The execution record(s) of this answer: with `n` > 1, every answer's, in order, separated by `, `.",
  "x-atomic-decision-id": "The bidding decision behind the answer (stored under the execution id); absent when the caller named the model.",
  "x-atomic-routing": "How the learner chose: `exploit` or `explore`; absent when the caller named the model.",
  "x-atomic-audit-event-id": "The `audit.read` or `content.read` event that records this very read: its receipt can be asked for too.",
  "Location": "Where the created resource is read.",
  "Retry-After": "Seconds to wait before asking again.",
  "WWW-Authenticate": "The challenge: `Bearer realm=\"atomic\"`.",
} as const;
export type HeaderName = keyof typeof HEADERS;

/** One answer of an operation: its JSON body, its server-sent events, or another media type. */
export interface Answer {
  description: string;
  /** A named answer schema (answers/). */
  json?: z.ZodType;
  /** Server-sent events: the named schema of the JSON each `data:` carries. */
  events?: z.ZodType;
  /** A body that is not JSON: its media type. */
  media?: string;
  headers?: readonly HeaderName[];
}

export const TAGS = [
  { name: "OpenAI-compatible", description: "OpenAI's routes and shapes: existing clients work by changing only the base URL." },
  { name: "Tasks", description: "Atomic's task API: input in, schema-validated result out, synchronous or as a durable workflow." },
  { name: "Records", description: "What was stored for a request, and the caller's judgement of it." },
  { name: "Schemas", description: "The registry of JSON Schemas that tasks and response formats name." },
  { name: "Audit", description: "The tamper-evident log, for auditors: checkpoints, receipts, consistency proofs, exports." },
  { name: "Administration", description: "A tenant's controls (scope `admin`: its keys, settings, erasure, adapters) and the site operator's (scope `operator`: models, policies, the learners, every tenant's executions); every change is audited." },
  { name: "Service", description: "Probes, metrics, and this description." },
] as const;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tag: (typeof TAGS)[number]["name"];
  /** The schema the route checks its path parameters with; absent: they are plain strings. */
  path?: z.ZodObject;
  query?: z.ZodObject;
  /** A named request schema (the one the route validates the body with), or a body that is not JSON. */
  body?: z.ZodType | { media: readonly string[]; description: string; required: boolean };
  answers: Record<number, Answer>;
  /** Error statuses particular to the route; those every route of its kind shares are added by the document. */
  errors?: readonly number[];
}

const ChatRequest = requestSchema("ChatCompletionRequest", ChatCompletionRequestSchema);
const CompletionRequest = requestSchema("CompletionRequest", CompletionRequestSchema);
const EmbeddingRequest = requestSchema("EmbeddingRequest", EmbeddingRequestSchema);
const ResponsesRequest = requestSchema("ResponsesRequest", ResponsesRequestSchema);
const Tasks = requestSchema("TaskRequest", TaskRequest);
const Feedbacks = requestSchema("FeedbackRequest", FeedbackRequest);
const Schemas = requestSchema("RegisterSchemaRequest", RegisterSchemaRequest);
const Fits = requestSchema("AdapterFitRequest", FitRequest);
const Erasures = requestSchema("ErasureRequest", ErasureRequest);

const GENERATED = ["x-atomic-execution-id", "x-atomic-decision-id", "x-atomic-routing"] as const;
const AUDITED = ["x-atomic-audit-event-id"] as const;

/** The two answers of a control that switches a learner: frozen, learning again, or forgotten. */
function control(operationId: string, summary: string, json: z.ZodType): Operation {
  return { operationId, summary, tag: "Administration", answers: { 200: { description: "the state after the change", json } } };
}

/**
 * Every route the gateway serves, by Hono's `METHOD path`. The document holds those of this table that the app
 * really registered (GET /metrics only where it is served); a route missing here is missing from the document,
 * which test/gateway/openapi.test.ts refuses.
 */
export const OPERATIONS: Record<string, Operation> = {
  "GET /healthz": { operationId: "getLiveness", summary: "The process answers", tag: "Service", answers: { 200: { description: "alive", json: Liveness } } },
  "GET /readyz": {
    operationId: "getReadiness",
    summary: "The database answers and a model is ready",
    tag: "Service",
    answers: { 200: { description: "ready", json: Readiness }, 503: { description: "not ready: the database is unreachable or no model is ready", json: Readiness } },
  },
  "GET /metrics": {
    operationId: "getMetrics",
    summary: "Prometheus text exposition",
    description: "Every series of the gateway: requests, inference, queues, models, audit, egress refusals. Served here behind `metrics:read`, or on a loopback listener of its own (`metrics.listener`), or not at all.",
    tag: "Service",
    answers: { 200: { description: "the series", media: "text/plain" } },
  },
  "GET /openapi.json": {
    operationId: "getOpenApiDocument",
    summary: "This document",
    description: "OpenAPI 3.1, generated at run time from the zod schemas the routes validate with and the handlers they run. Served without credentials: it describes the interface and holds no data.",
    tag: "Service",
    answers: { 200: { description: "the document", json: OpenApiOutline } },
  },
  "GET /docs": {
    operationId: "getReference",
    summary: "The reference page",
    description: "This document rendered for reading, by a page the gateway ships: nothing is fetched from elsewhere.",
    tag: "Service",
    answers: { 200: { description: "an HTML page", media: "text/html" } },
  },

  "GET /v1/models": { operationId: "listModels", summary: "The models served, and `auto`", tag: "OpenAI-compatible", answers: { 200: { description: "every pinned model with its state, then `auto`", json: ModelList } } },
  "GET /v1/models/:id": {
    operationId: "getModel",
    summary: "One model",
    tag: "OpenAI-compatible",
    answers: { 200: { description: "the model", json: Model } },
    errors: [404],
  },
  "POST /v1/chat/completions": {
    operationId: "createChatCompletion",
    summary: "Chat completion",
    description: "OpenAI's chat completion: non-streaming or server-sent events (`stream: true`), `response_format` `json_schema` and `json_object` under a grammar, tool calling, `n` answers. Parameters Atomic does not implement are refused by name.",
    tag: "OpenAI-compatible",
    body: ChatRequest,
    answers: { 200: { description: "the answer, or its stream of chunks ending with `data: [DONE]`", json: ChatCompletion, events: ChatCompletionChunk, headers: GENERATED } },
    errors: [404, 422, 503],
  },
  "POST /v1/completions": {
    operationId: "createCompletion",
    summary: "Text completion",
    description: "OpenAI's legacy text completion, non-streaming or server-sent events; `n` answers.",
    tag: "OpenAI-compatible",
    body: CompletionRequest,
    answers: { 200: { description: "the answer, or its stream of chunks ending with `data: [DONE]`", json: TextCompletion, events: TextCompletionChunk, headers: GENERATED } },
    errors: [404, 503],
  },
  "POST /v1/responses": {
    operationId: "createResponse",
    summary: "Response (OpenAI's Responses API)",
    description: "The same generation as chat: `input` as text or items (messages, `function_call`, `function_call_output`), `instructions`, `text.format` `json_schema` and `json_object` under a grammar, function `tools`. Non-streaming, or the Responses event stream (`stream: true`). A request carries its conversation, or continues a stored response's with `previous_response_id` (read from that execution's record), and every execution is stored (`store: false` is refused). Parameters Atomic does not implement are refused by name.",
    tag: "OpenAI-compatible",
    body: ResponsesRequest,
    answers: { 200: { description: "the response, or its stream of events", json: ResponseObject, events: ResponseStreamEvent, headers: GENERATED } },
    errors: [404, 422, 503],
  },
  "GET /v1/responses/:id": {
    operationId: "getResponse",
    summary: "A stored response (OpenAI's responses.retrieve)",
    description: "A response of the caller's tenant as `POST /v1/responses` answered it, read back from its execution record: PII as the record's placeholders, no log-probabilities (they are not stored). 404 `response_not_found` (unknown, another tenant's, or recorded before responses could be read back: its record is at `GET /v1/executions/:id`) or `response_erased`. Each read is a `content.read` audit event (a refused one too).",
    tag: "OpenAI-compatible",
    path: ResponsePath,
    answers: { 200: { description: "the response", json: ResponseObject, headers: AUDITED } },
    errors: [404],
  },
  "POST /v1/embeddings": {
    operationId: "createEmbedding",
    summary: "Embeddings",
    description: "`encoding_format` `float` or `base64` (what the official client asks for by default).",
    tag: "OpenAI-compatible",
    body: EmbeddingRequest,
    answers: { 200: { description: "one vector per input", json: EmbeddingList, headers: ["x-atomic-execution-id"] } },
    errors: [404, 503],
  },

  "POST /v1/tasks": {
    operationId: "createTask",
    summary: "Run a task",
    description: "`mode: \"sync\"` (default) answers the validated result; `mode: \"async\"` answers 202 at once and runs the task as a durable workflow, followed at `links`, optionally POSTing the signed outcome to `webhook.url`.",
    tag: "Tasks",
    body: Tasks,
    answers: {
      200: { description: "mode sync: the result", json: TaskResult, headers: GENERATED },
      202: { description: "mode async: accepted, with its plan and where to follow it", json: TaskAccepted, headers: ["Location", "x-atomic-decision-id", "x-atomic-routing"] },
    },
    errors: [404, 422, 503],
  },
  "GET /v1/tasks/:id": {
    operationId: "getTask",
    summary: "An asynchronous task",
    description: "Its progress while it runs; then, from the moment its result is recorded, the result (final), every microtask and the bidding decision, the learner's and the webhook's outcome shown as `{pending: true}` while they are under way. A read that answers with the result is a `content.read` audit event (named in `x-atomic-audit-event-id`); progress reads leave none.",
    tag: "Tasks",
    path: TaskPath,
    answers: { 200: { description: "the task", json: Task, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/tasks/:id/events": {
    operationId: "streamTaskEvents",
    summary: "An asynchronous task's events",
    description: "Server-sent events: `progress` whenever the task's state changes, then one `done` with the finished task (once its result is recorded, a webhook still being delivered shown as `{pending: true}`), then the stream ends. May be reopened at any time. A `done` carrying the result is a `content.read` audit event.",
    tag: "Tasks",
    path: TaskPath,
    answers: { 200: { description: "the event stream", events: TaskEvent } },
    errors: [404],
  },
  "POST /v1/tasks/:id/cancel": {
    operationId: "cancelTask",
    summary: "Cancel an asynchronous task",
    description: "Stops a task whose result is not recorded yet: 409 `task_not_running` once it is (the result is final; a pending webhook is still delivered) or the task has ended. Cancels asked again while it stops are answered alike; the one that took effect is audited as `task.cancelled` (who stopped which task) before the answer.",
    tag: "Tasks",
    path: TaskPath,
    answers: { 202: { description: "asked to stop; its in-flight inferences are cancelled", json: TaskCancelling } },
    errors: [404, 409],
  },

  "GET /v1/executions/:id": {
    operationId: "getExecution",
    summary: "An execution record",
    description: "What was stored for one request: model and digest, parameters, input, output, tokens, timings, and the bidding decision. Only the tenant that made it can read it. Each read is a `content.read` audit event (a refused one too).",
    tag: "Records",
    path: ExecutionPath,
    answers: { 200: { description: "the record", json: Execution, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/executions/:id/receipt": {
    operationId: "getExecutionReceipt",
    summary: "An execution's audit receipt",
    description: "What GET /v1/audit/receipt/{eventId} answers for the execution's audit event (it shares the execution's id), with the scopes that read the execution instead of `audit:read`: only the tenant that made it can ask. Its leaf with its inclusion proof in the latest signed tree, or in the tree of `tree_size` the caller holds; verifiable offline with the log's public key. 404 `audit_event_pending` (with Retry-After) while the event is not yet sequenced. Recorded as `audit.read`.",
    tag: "Records",
    path: ExecutionPath,
    query: ReceiptQuery,
    answers: { 200: { description: "the receipt", json: AuditReceipt, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/decisions/:id": {
    operationId: "getDecision",
    summary: "A bidding decision",
    description: "The decision `x-atomic-decision-id` names, stored under an execution's or an asynchronous task's id: the plan, every bid and the choice, without the execution's input and output. Only the tenant that made it can read it; 404 `decision_not_found` also where the caller named the model and nothing was bid for. A running task's decision needs the `tasks` scope.",
    tag: "Records",
    path: ExecutionPath,
    answers: { 200: { description: "the decision", json: Decision } },
    errors: [404],
  },
  "GET /v1/events": {
    operationId: "streamEvents",
    summary: "The tenant's event stream",
    description: "Server-sent events of every audit event whose actor is of the caller's tenant (executions and tasks as `request`, webhook deliveries, the tenant's own changes), as the log holds them: digests and names, never content. Each event's `id` is its index in the audit log, which orders all events; ids have gaps where other tenants' events are. Resume after an id with the `Last-Event-ID` header (or `after`); delivery is at least once. The stream stays open, sending events as they are sequenced.",
    tag: "Records",
    query: EventsQuery,
    answers: { 200: { description: "the event stream", events: AuditEventData } },
  },
  "POST /v1/feedback": {
    operationId: "createFeedback",
    summary: "Judge an execution",
    description: "The caller's score (0…1) for an answer, taught to the bidding learner and to adaptation; a `correction` (stored redacted) teaches in the model's place. Audited as `feedback.recorded` (who judged which execution, the score, what was learned; never the comment or correction) before the answer.",
    tag: "Records",
    body: Feedbacks,
    answers: { 200: { description: "what was learned from it", json: Feedback } },
    errors: [404],
  },

  "POST /v1/schemas": {
    operationId: "registerSchema",
    summary: "Register a schema",
    description: "Versioned and immutable per version; registering the same document again is answered as a success.",
    tag: "Schemas",
    body: Schemas,
    answers: { 201: { description: "registered (or already registered identically)", json: SchemaRecord } },
    errors: [409],
  },
  "GET /v1/schemas": { operationId: "listSchemas", summary: "The tenant's schemas", tag: "Schemas", answers: { 200: { description: "the latest version of each", json: SchemaList } } },
  "GET /v1/schemas/:name": {
    operationId: "getSchema",
    summary: "A schema's latest version",
    tag: "Schemas",
    path: SchemaPath,
    answers: { 200: { description: "the schema", json: SchemaRecord } },
    errors: [404],
  },
  "GET /v1/schemas/:name/versions/:version": {
    operationId: "getSchemaVersion",
    summary: "One version of a schema",
    tag: "Schemas",
    path: SchemaPath,
    answers: { 200: { description: "the schema", json: SchemaRecord } },
    errors: [404],
  },

  "GET /v1/audit/checkpoint": {
    operationId: "getAuditCheckpoint",
    summary: "The latest signed checkpoint",
    description: "A signed note (audit/FORMAT.md §4): origin, tree size, root hash, signature lines.",
    tag: "Audit",
    query: NoQuery,
    answers: { 200: { description: "the checkpoint", media: "text/plain", headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/audit/receipt/:eventId": {
    operationId: "getAuditReceipt",
    summary: "An event's receipt",
    description: "The event's leaf with its inclusion proof in the latest signed tree, or in the tree of `tree_size` the auditor holds; verifiable offline with the log's public key.",
    tag: "Audit",
    path: ReceiptPath,
    query: ReceiptQuery,
    answers: { 200: { description: "the receipt", json: AuditReceipt, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/audit/consistency": {
    operationId: "getAuditConsistency",
    summary: "A consistency proof between two signed trees",
    tag: "Audit",
    query: ConsistencyQuery,
    answers: { 200: { description: "the proof and both checkpoints", json: AuditConsistency, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/audit/export": {
    operationId: "exportAudit",
    summary: "Export the log",
    description: "A tar stream of the same files `atomic audit export` writes, ending at a signed tree, verifiable offline with audit/verify.mjs.",
    tag: "Audit",
    query: ExportQuery,
    answers: { 200: { description: "the archive", media: "application/x-tar", headers: AUDITED } },
  },

  "GET /v1/admin/bidding": control("getBiddingState", "The bidding learner's state", BiddingState),
  "GET /v1/admin/bidding/history": {
    operationId: "getBiddingHistory",
    summary: "What the bidding learner chose over time, and how it did",
    description: "Over a window of at most 31 days (default: the last 24 hours) in equal buckets (default 24, at most 168): decisions, each model's share, the chosen model's predicted quality beside the best eligible bid's (regret), its cost beside the cheapest, and the outcomes and feedback observed; per task class and model, the learner's predicted quality beside what was observed. Every tenant's unless `tenant` is given. `window_too_long` when the window exceeds 31 days.",
    tag: "Administration",
    query: BiddingHistoryParams,
    answers: { 200: { description: "the history", json: BiddingHistory } },
  },
  "POST /v1/admin/bidding/train": {
    operationId: "trainBidding",
    summary: "Warm-start the bidding learner",
    description: "From an outcome table in the body (CSV with a header row, or JSONL), or with `?from=executions` from this gateway's own judged executions. Audited with the table's SHA-256, never its content.",
    tag: "Administration",
    // The route reads `from` without a schema of its own: this one says what it accepts.
    query: z.object({ from: z.literal("executions").optional() }),
    body: { media: ["text/csv", "application/jsonl"], description: "the outcome table (src/bidding/training.ts); none with ?from=executions", required: false },
    answers: { 200: { description: "what was learned", json: BiddingTraining } },
  },
  "POST /v1/admin/bidding/freeze": control("freezeBidding", "Stop the bidding learner learning", BiddingState),
  "POST /v1/admin/bidding/unfreeze": control("unfreezeBidding", "Let the bidding learner learn again", BiddingState),
  "POST /v1/admin/bidding/reset": control("resetBidding", "Forget what the bidding learner learned", BiddingState),

  "GET /v1/admin/adaptation": {
    operationId: "getAdaptationState",
    summary: "Adaptation's task classes",
    description: "The caller's tenant's task classes, with the strategies, sampling preset, max_tokens and adapter each model would get now.",
    tag: "Administration",
    query: ListQuery,
    answers: { 200: { description: "the state", json: AdaptationState } },
    errors: [404],
  },
  "POST /v1/admin/adaptation/freeze": { ...control("freezeAdaptation", "Stop adaptation learning", AdaptationControl), errors: [404] },
  "POST /v1/admin/adaptation/unfreeze": { ...control("unfreezeAdaptation", "Let adaptation learn again", AdaptationControl), errors: [404] },
  "POST /v1/admin/adaptation/reset": { ...control("resetAdaptation", "Forget what adaptation learned", AdaptationControl), errors: [404] },
  "POST /v1/admin/adaptation/fits": {
    operationId: "createAdapterFit",
    summary: "Fit an adapter",
    description: "Fits a LoRA adapter for a label-like task class from the tenant's rated executions, off the request path; promoted only when it beats the current one on held-back examples.",
    tag: "Administration",
    body: Fits,
    answers: { 202: { description: "started", json: AdapterFit } },
    errors: [404],
  },
  "GET /v1/admin/adaptation/fits/:id": {
    operationId: "getAdapterFit",
    summary: "A fit's status",
    tag: "Administration",
    path: JobParams,
    answers: { 200: { description: "the fit", json: AdapterFit } },
    errors: [404],
  },
  "POST /v1/admin/policy/reload": {
    operationId: "reloadPolicy",
    summary: "Reload the policy set",
    description: "A set that validates replaces the active one from the next request on; one that does not is refused (422, its problems in `details`) and the active set stays.",
    tag: "Administration",
    answers: { 200: { description: "the set now active", json: PolicyReload } },
    errors: [422],
  },
  "POST /v1/admin/apikeys": {
    operationId: "createApiKey",
    summary: "Issue an API key",
    description: "A key for the caller's own tenant with the scopes asked for; the secret is in this answer only (Cache-Control: no-store). Audited as apikey.created in the same transaction.",
    tag: "Administration",
    body: requestSchema("ApiKeyCreateRequest", ApiKeyCreateRequest),
    answers: { 201: { description: "the key with its secret, once", json: ApiKeyIssued } },
  },
  "GET /v1/admin/apikeys": {
    operationId: "listApiKeys",
    summary: "The tenant's API keys",
    tag: "Administration",
    answers: { 200: { description: "every key, revoked ones too, never a secret or its hash", json: ApiKeyList } },
  },
  "POST /v1/admin/apikeys/:id/revoke": {
    operationId: "revokeApiKey",
    summary: "Revoke an API key",
    description: "Refused at once by this gateway, by others within auth.apiKeyCacheMs; repeating it changes nothing.",
    tag: "Administration",
    path: KeyParams,
    answers: { 200: { description: "the revoked key", json: ApiKey } },
    errors: [404],
  },
  "GET /v1/admin/tenants/:tenant/settings": {
    operationId: "getTenantSettings",
    summary: "A tenant's limits and bidding criteria",
    description: "The caller's own tenant's: what the configuration file sets, what was stored over HTTP, and what is in force. Another tenant is 404.",
    tag: "Administration",
    path: TenantPath,
    answers: { 200: { description: "the settings", json: TenantSettings } },
    errors: [404],
  },
  "PUT /v1/admin/tenants/:tenant/settings": {
    operationId: "setTenantSettings",
    summary: "Change a tenant's limits or bidding criteria",
    description: "Stored over the configuration file's and in force from this gateway's next request on, without a restart, and on the other gateways of the database within their limits.tenantSettingsRefreshMs (default 5 s). Each `limits` field replaces the file's; `bidding.criteria` replaces the file's criteria for the tenant, null removes the stored ones. A part given replaces the stored part, a part left out stays. Validated as the file is: a refused body changes nothing. Audited as tenant.settings.changed.",
    tag: "Administration",
    path: TenantPath,
    body: requestSchema("TenantSettingsRequest", SettingsRequest),
    answers: { 200: { description: "the settings after the change", json: TenantSettings } },
    errors: [404],
  },
  "DELETE /v1/admin/tenants/:tenant/settings": {
    operationId: "deleteTenantSettings",
    summary: "Back to the configuration file's limits and criteria",
    description: "Removes what was stored for the tenant: the file's settings apply from this gateway's next request on, and on the other gateways of the database within their limits.tenantSettingsRefreshMs (default 5 s); 404 `tenant_settings_not_found` when nothing was. Audited as tenant.settings.changed.",
    tag: "Administration",
    path: TenantPath,
    answers: { 200: { description: "the settings after the change", json: TenantSettings } },
    errors: [404],
  },
  "POST /v1/admin/models/reload": {
    operationId: "reloadModels",
    summary: "Bring the pinned models into force now",
    description: "What the gateway does within a second of a change to the site's manifest, now, and for the installed family's manifest too: each newly pinned model gets a host and is answered as loading (GET /v1/models/{id} says when it is ready); a changed pin (file, digest, capabilities, cost, limits) is loaded beside the served one, which serves until the new one is ready and is then drained, or serves on if the new file is refused (audited as models.replaced); an unpinned model is unknown to new requests at once and its host drains (models.removed). A changed pin refused before is listed with why, and tried again once the pin or its file changes. A manifest that cannot be read is refused (422) and nothing changes. Audited as models.reloaded.",
    tag: "Administration",
    answers: { 200: { description: "what was added, replaced, removed, and which changed pins stay refused", json: ModelsReload } },
    errors: [422],
  },
  "POST /v1/admin/models/:id/unload": {
    operationId: "unloadModel",
    summary: "Stop serving a pinned model",
    description: "The model stays pinned and listed, `draining` and then `unloaded`: requests naming it are refused at once (503 model_unloaded) and bidding leaves it out, the requests its host admitted finish (past `drain_timeout_ms`, default models.drainTimeoutMs, they fail with 503 model_drain_timeout), then the host stops and its memory is freed. It stays unloaded, across reloads and restarts, until POST /v1/admin/models/{id}/load. The choice is stored in the database: every other gateway and `atomic worker` of the database unloads the model too (draining as here) within its models.serviceStateRefreshMs (default 5 s), a gateway or worker starting does not load it, and a worker no longer advertises it to asynchronous tasks. 404 for an id not pinned here, 409 `model_not_hosted` when it is already unloaded here and in the database. Audited as models.unloaded, in the same transaction as the stored choice.",
    tag: "Administration",
    path: ModelPath,
    query: UnloadQuery,
    answers: { 200: { description: "draining (or already unloaded)", json: ModelServing } },
    errors: [404, 409],
  },
  "POST /v1/admin/models/:id/load": {
    operationId: "loadModel",
    summary: "Serve an unloaded model again",
    description: "Hosts the model as pinned now, verified by its SHA-256 before it is loaded as every model is; answered as loading (GET /v1/models/{id} says when it is ready, or why it was refused). Stored in the database like an unload: every other gateway and `atomic worker` of the database hosts it again within its models.serviceStateRefreshMs (default 5 s). 404 for an id not pinned here, 409 `model_already_hosted` when a host serves it here and the database has it in service. Audited as models.loaded, in the same transaction as the stored choice.",
    tag: "Administration",
    path: ModelPath,
    answers: { 200: { description: "loading", json: ModelServing } },
    errors: [404, 409],
  },
  "GET /v1/admin/overview": {
    operationId: "getAdminOverview",
    summary: "The dashboard's overview",
    description: "Request rate, latency percentiles, errors, tokens/s and queue depth per model, bidding and policy decisions and the audit backlog, over about the last minute of this gateway's own metrics; `metrics_enabled: false` where metrics are off.",
    tag: "Administration",
    query: NoQuery,
    answers: { 200: { description: "the overview", json: AdminOverview } },
  },
  "GET /v1/admin/executions": {
    operationId: "listExecutions",
    summary: "Every tenant's executions",
    description: "Newest first, without content, narrowed by tenant, model, status and time; pages of `limit` (at most 200, default 50) follow one another by `next_cursor`, at the same cost however deep.",
    tag: "Administration",
    query: ExecutionListParams,
    answers: { 200: { description: "a page", json: ExecutionSummaryList } },
  },
  "GET /v1/admin/executions/:id": {
    operationId: "getAdminExecution",
    summary: "Any tenant's execution record",
    description: "What GET /v1/executions/{id} answers its own tenant, for an execution of any tenant. Each read is a `content.read` audit event naming the record's tenant.",
    tag: "Administration",
    path: ExecutionPath,
    answers: { 200: { description: "the record", json: Execution, headers: AUDITED } },
    errors: [404],
  },
  "GET /v1/admin/audit": {
    operationId: "getAdminAudit",
    summary: "The audit log's health",
    description: "The latest signed checkpoint and its age, the sequencer's backlog and leadership, and the requests the policy refused among the newest leaves. Recorded as `audit.read`.",
    tag: "Administration",
    query: NoQuery,
    answers: { 200: { description: "the log's state", json: AdminAudit } },
  },
  "GET /v1/admin/audit/keys": {
    operationId: "getAuditKeys",
    summary: "The log's public keys",
    description: "The keys checkpoints verify with, as JWKs, with the key id and fingerprint to compare out of band: the current signing key first, then retired ones.",
    tag: "Audit",
    query: NoQuery,
    answers: { 200: { description: "the keys", json: AuditKeys } },
  },
  "GET /ui": {
    operationId: "getDashboard",
    summary: "The operators' dashboard",
    description: "A page the gateway ships (nothing is fetched from elsewhere): sign in with a key or token holding `admin`, then overview, executions, bidding, models and audit, receipts verified in the browser.",
    tag: "Service",
    answers: { 200: { description: "an HTML page", media: "text/html" } },
  },
  "GET /ui/:file": {
    operationId: "getDashboardFile",
    summary: "One of the dashboard's modules or its style",
    tag: "Service",
    answers: { 200: { description: "a JavaScript module, a style sheet or the page", media: "text/javascript" } },
    errors: [404],
  },
  "POST /v1/admin/erasure": {
    operationId: "eraseContent",
    summary: "Erase executions' content",
    description: "Input, output, caller text in parameters and feedback comments of the caller's tenant's executions the selectors name become null; ids, digests, counts and the audit log stay. A dry run only counts.",
    tag: "Administration",
    body: Erasures,
    answers: { 200: { description: "what was (or would be) erased", json: Erasure } },
  },
};
