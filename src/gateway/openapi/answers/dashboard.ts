import { z } from "zod";
import { answerSchema } from "../registry.js";
import { Count, Timestamp, Usage } from "./common.js";

/** Answers of the admin routes the dashboard (/ui) reads: src/gateway/routes/v1_admin_{overview,executions,audit}.ts. */

const Seconds = z.number().min(0);
const Quantiles = z.object({ p50: Seconds.nullable(), p90: Seconds.nullable(), p99: Seconds.nullable() });

/** Overview in observability/metrics/overview.ts. */
export const AdminOverview = answerSchema("AdminOverview", z.union([
  z.object({
    object: z.literal("admin.overview"),
    metrics_enabled: z.literal(true),
    window_seconds: Seconds.describe("what the rates and counts are over: about a minute, or since the gateway started"),
    traffic: z.object({
      requests: z.number().min(0),
      requests_per_second: z.number().min(0),
      errors: z.number().min(0).describe("answers with a status of 400 or more"),
      error_share: z.number().min(0).max(1).nullable(),
      latency_seconds: Quantiles.describe("to the response headers, interpolated within the histogram's buckets"),
    }).describe("every route but the operators' and the service's own (/v1/admin, /ui, probes, metrics, the API description)"),
    errors: z.array(z.object({ status: z.int(), code: z.string(), count: z.number().min(0) })).describe("error answers on every route, most frequent first"),
    models: z.array(z.object({
      id: z.string(),
      state: z.string().nullable(),
      queued: z.number().nullable(),
      in_flight: z.number().nullable(),
      executions: z.number().min(0),
      failures: z.number().min(0),
      prompt_tokens: z.number().min(0),
      completion_tokens: z.number().min(0),
      tokens_per_second: z.number().min(0).describe("completion tokens over the window"),
      generation_tokens_per_second_p50: z.number().nullable().describe("median speed of one generation"),
      queue_wait_seconds_p90: z.number().nullable(),
      restarts: z.number().min(0).describe("host restarts since the gateway started"),
    })),
    bidding: z.array(z.object({ model: z.string(), explore: z.number().min(0), exploit: z.number().min(0) })),
    policy: z.object({
      send: z.number().min(0),
      redact: z.number().min(0),
      deny: z.number().min(0),
      denials: z.array(z.object({ reason: z.string(), count: z.number().min(0) })).describe("by the id of a policy that denied"),
    }),
    audit: z.object({
      queued: z.number().nullable(),
      lag_seconds: z.number().nullable(),
      checkpoint_size: z.number().nullable(),
      checkpoint_age_seconds: z.number().nullable(),
      leader: z.boolean().nullable(),
    }),
  }),
  z.object({ object: z.literal("admin.overview"), metrics_enabled: z.literal(false) }),
]));

export const ExecutionSummaryList = answerSchema("ExecutionSummaryList", z.object({
  object: z.literal("list"),
  data: z.array(z.object({
    id: z.uuid(),
    object: z.literal("execution.summary"),
    created_at: Timestamp,
    tenant: z.string(),
    subject: z.string(),
    endpoint: z.enum(["chat.completions", "completions", "embeddings", "responses", "tasks"]),
    model: z.string(),
    status: z.enum(["succeeded", "failed"]),
    error_code: z.string().nullable(),
    usage: Usage,
    total_ms: z.number(),
  })),
  next_cursor: z.string().nullable().describe("pass as `cursor` for the next page; null on the last"),
}));

export const AdminAudit = answerSchema("AdminAudit", z.object({
  object: z.literal("admin.audit"),
  checkpoint: z.object({
    size: Count,
    root: z.string().describe("base64"),
    created_at: Timestamp,
    age_seconds: Seconds.nullable(),
    note: z.string().describe("the signed note, exactly as signed"),
  }).nullable(),
  sequencer: z.object({ queued: Count, oldest_queued_seconds: Seconds, leader: z.boolean() }),
  refusals: z.object({
    scanned: z.object({ from: Count, to: Count }).describe("the leaves looked at: the newest of the signed tree"),
    data: z.array(z.object({
      index: Count,
      event_id: z.string(),
      time: Timestamp,
      tenant: z.string().nullable(),
      subject: z.string().nullable(),
      endpoint: z.string().nullable(),
      reason: z.string().nullable(),
    })).describe("requests the policy refused, newest first"),
  }),
}));

export const AuditKeys = answerSchema("AuditKeys", z.object({
  object: z.literal("audit.keys"),
  keys: z.array(z.object({
    jwk: z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), kid: z.string(), alg: z.literal("EdDSA"), use: z.literal("sig") }),
    key_id: z.string().regex(/^[0-9a-f]{8}$/),
    fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    current: z.boolean().describe("the key new checkpoints are signed with; the others are retired"),
  })),
}));

/** GET /v1/admin/bidding/history: src/gateway/routes/v1_admin_bidding.ts (historyBody). */
const Mean = z.number().nullable();
const Observed = z.object({ mean: z.number().min(0).max(1).nullable(), count: Count });
const HistoryFigures = {
  decisions: Count.describe("microtasks bidding assigned"),
  explored: Count.describe("of which the learner chose on its exploring estimate"),
  predicted_quality: z.object({
    chosen: Mean.describe("mean predicted quality of the chosen model"),
    best: Mean.describe("mean of the best predicted quality any eligible bid offered"),
    regret: Mean.describe("mean of best − chosen: predicted quality given up"),
  }),
  cost: z.object({ chosen: Mean.describe("mean predicted cost of the chosen bid"), cheapest: Mean.describe("mean of the cheapest eligible bid's") }),
  outcome: Observed.describe("the reward in force of the recorded outcomes (automatic, combined with feedback)"),
  feedback: Observed.describe("the latest feedback score of the executions that have one"),
};
const ModelShares = z.array(z.object({ model: z.string(), decisions: Count, share: z.number().min(0).max(1) })).describe("most chosen first");

export const BiddingHistory = answerSchema("BiddingHistory", z.object({
  object: z.literal("bidding.history"),
  since: Timestamp,
  until: Timestamp,
  tenant: z.string().nullable().describe("the tenant asked for; null: every tenant's"),
  bucket_seconds: z.number().positive(),
  totals: z.object({ ...HistoryFigures, models: ModelShares }),
  buckets: z.array(z.object({ start: Timestamp, end: Timestamp, ...HistoryFigures, models: ModelShares })).describe("oldest first, every bucket, empty ones too"),
  classes: z.array(z.object({
    task_class: z.string().describe("as adaptation named it, else `<endpoint>:<task type>`"),
    model: z.string(),
    bids: Count.describe("eligible bids the model made for the class"),
    predicted_quality: Mean.describe("their mean predicted quality: what the learner believed of the model for the class"),
    chosen: Count,
    chosen_predicted_quality: Mean.describe("mean predicted quality when it was chosen, to hold against what was observed"),
    outcome: Observed,
    feedback: Observed,
  })).describe("by task class, then model"),
}));
