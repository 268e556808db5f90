import { z } from "zod";
import { STRATEGIES } from "../../../adaptation/strategies.js";
import { CriteriaSchema } from "../../../bidding/criteria.js";
import { TenantLimitsSchema } from "../../../config/schema.js";
import { answerSchema } from "../registry.js";
import { SCOPES } from "../../../identity/principal.js";
import { MODEL_STATES } from "../../../inference/interface.js";
import { Count, Sha256Hex, Timestamp } from "./common.js";

/** Answers of the operators' routes under /v1/admin (scope admin). */

/** RouterState in bidding/router.ts. */
export const BiddingState = answerSchema("BiddingState", z.object({
  object: z.literal("bidding.state"),
  learner: z.string(),
  policy: z.string(),
  frozen: z.boolean(),
  epoch: Count,
  version: Count,
  unsavedUpdates: Count,
  discardedSavedState: z.boolean(),
  features: z.string(),
  qualityCalibration: z.number(),
  models: z.record(z.string(), z.object({ observations: Count, msPerPromptToken: z.number(), msPerCompletionToken: z.number() })),
}));

export const BiddingTraining = answerSchema("BiddingTraining", z.union([
  z.object({ object: z.literal("bidding.training"), action: z.literal("train"), source: z.literal("executions"), rows: Count, learned: Count, skipped: Count, version: Count }),
  z.object({ object: z.literal("bidding.training"), action: z.literal("train"), source: z.literal("table"), sha256: Sha256Hex, rows: Count, learned: Count, version: Count, models: z.record(z.string(), Count) }),
]));

/** IntegratorState in adaptation/integrator.ts. */
const integratorState = {
  learner: z.string(),
  frozen: z.boolean(),
  version: Count,
  unsavedUpdates: Count,
  discardedSavedState: z.boolean(),
};

export const AdaptationControl = answerSchema("AdaptationControl", z.object({ object: z.literal("adaptation.state"), ...integratorState, classes: Count }));

export const AdaptationState = answerSchema("AdaptationState", z.object({
  object: z.literal("adaptation.state"),
  ...integratorState,
  tenant: z.string(),
  classes: z.array(z.object({
    task_class: z.string(),
    feedback: Count,
    rated: Count,
    models: z.array(z.object({
      model: z.string(),
      strategies: z.array(z.enum(STRATEGIES)),
      preset: z.string().nullable(),
      parameters: z.record(z.string(), z.number()).nullable(),
      max_tokens: z.int().nullable(),
      adapter: z.object({ id: z.string(), sha256: Sha256Hex, version: z.int(), tenant_only: z.boolean() }).nullable(),
      learned: z.record(z.string(), z.unknown()).describe("what was learned, for operators to read; its shape follows the learner"),
    })),
  })),
}));

export const AdapterFit = answerSchema("AdapterFit", z.object({
  object: z.literal("adaptation.fit"),
  id: z.uuid(),
  model: z.string(),
  task_class: z.string(),
  created_at: z.string(),
  examples: Count,
  status: z.enum(["running", "succeeded", "failed"]),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  adapter: z.object({ id: z.string(), sha256: Sha256Hex, version: z.int(), classification: z.string().nullable() }).optional(),
  promoted: z.boolean().optional(),
  decision: z.string().optional().describe("why the candidate was or was not promoted"),
  accuracy: z.object({ base: z.number(), current: z.number().nullable(), candidate: z.number() }).optional(),
  counts: z.object({ examples: Count, fitted: Count, heldBack: Count, skipped: Count }).optional(),
  timings_ms: z.object({ forward_passes: Count, fit: Count }).optional(),
}));

export const PolicyReload = answerSchema("PolicyReload", z.object({
  object: z.literal("policy.reload"),
  changed: z.boolean(),
  policy_set_hash: z.string(),
  previous_hash: z.string(),
  warnings: z.array(z.string()),
  announced: z.int().min(1).nullable().describe("the reload's number in the site's log, which every other gateway of the database follows within policy.reloadRefreshMs (reading its own folder); null where the gateway shares none"),
}));

const ModelState = z.enum(MODEL_STATES);

export const ModelsReload = answerSchema("ModelsReload", z.object({
  object: z.literal("models.reload"),
  added: z.array(z.object({ id: z.string(), sha256: Sha256Hex, state: ModelState })).describe("newly pinned: now hosted, loading"),
  replaced: z.array(z.object({ id: z.string(), sha256: Sha256Hex, previous_sha256: Sha256Hex, state: z.enum(["loading", "unloaded"]) }))
    .describe("pinned otherwise than served: the new pin loading beside the served one, which serves until the switch; or, for an unloaded model, taken for its next load"),
  removed: z.array(z.object({ id: z.string(), sha256: Sha256Hex, state: ModelState })).describe("unpinned: unknown to new requests, its host draining"),
  refused: z.array(z.object({ id: z.string(), sha256: Sha256Hex, code: z.string(), reason: z.string() }))
    .describe("changed pins whose file was refused (digest, format, crash on load): the previous pin serves on"),
}));

export const ModelServing = answerSchema("ModelServing", z.object({
  object: z.enum(["model.unload", "model.load"]),
  id: z.string(),
  sha256: Sha256Hex,
  state: ModelState.describe("draining or unloaded after an unload; loading after a load"),
  in_flight: Count.describe("requests its host is serving (an unload lets them finish)"),
  queued: Count,
}));

const selectors = z.object({ subject: z.string().optional(), execution_id: z.string().optional(), before: z.string().optional() });
export const Erasure = answerSchema("Erasure", z.union([
  z.object({ object: z.literal("erasure"), dry_run: z.literal(true), tenant: z.string(), selectors, executions: Count, feedback_comments: Count }),
  z.object({
    object: z.literal("erasure"),
    dry_run: z.literal(false),
    tenant: z.string(),
    selectors,
    executions: Count,
    feedback_comments: Count,
    erasure_id: z.uuid(),
    audit_event_ids: z.array(z.string()),
  }),
]));

const apiKey = {
  object: z.literal("api_key"),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  tenant: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  description: z.string().nullable(),
  created_at: Timestamp,
  revoked_at: Timestamp.nullable(),
};
export const ApiKey = answerSchema("ApiKey", z.object(apiKey));
export const ApiKeyIssued = answerSchema("ApiKeyIssued", z.object({ ...apiKey, key: z.string().describe("the secret: in this answer only") }));
export const ApiKeyList = answerSchema("ApiKeyList", z.object({ object: z.literal("list"), data: z.array(ApiKey) }));

/** TenantSettingsView in tenants/settings.ts, as routes/v1_admin_tenants.ts writes it. */
const tenantLimitFields = z.object({ requestsPerMinute: z.number().nullable(), burst: z.int(), tokensPerDay: z.int().nullable() });
const tenantBidding = z.object({ criteria: CriteriaSchema.nullable() });
const tenantRetention = z.object({ days: z.int().nullable().describe("days execution content is kept; null: until erased on demand") });
export const TenantSettings = answerSchema("TenantSettings", z.object({
  object: z.literal("tenant.settings"),
  tenant: z.string(),
  file: z.object({ limits: tenantLimitFields, bidding: tenantBidding, retention: tenantRetention })
    .describe("the configuration file's: limits.tenants.<tenant> over limits.default, bidding.tenants.<tenant>, retention.tenants.<tenant> over retention.default"),
  stored: z.object({ limits: TenantLimitsSchema.nullable(), bidding: tenantBidding, retention: tenantRetention.nullable(), updated_at: Timestamp, updated_by: z.string() }).nullable()
    .describe("set over HTTP, over the file's; null: nothing is stored"),
  effective: z.object({ limits: tenantLimitFields, bidding: tenantBidding, retention: tenantRetention })
    .describe("in force from the next request on (retention: from the next retention pass)"),
}));
