import type { AuditArchive, AuditArchiveRequest } from "../audit/archive.js";
import type { AuditEvent } from "../audit/core/entry.js";
import type { KeyIdentity } from "../audit/core/key-identity.js";
import type { AuditBacklog, AuditLogReader } from "../audit/store/reader.js";
import type { Logger } from "../observability/logger.js";
import type { AuthenticateOptions } from "./middleware/auth/index.js";
import type { Quotas } from "./middleware/quotas/index.js";
import type { Adaptation, AdaptationAdmin } from "../adaptation/index.js";
import type { PipelineDeps } from "../pipeline/generate.js";
import type { ServingChange } from "../pipeline/live-models.js";
import type { ServiceChangeBy } from "../pipeline/model-service.js";
import type { PinsReload } from "../pipeline/model-pins.js";
import type { Routing } from "../pipeline/routing.js";
import type { PolicyDecider, PolicyStore } from "../policy/index.js";
import type { PolicyFollower } from "../policy/reloads/follower.js";
import type { ApiKeyStore, DatabaseHealth, SchemaStore } from "../store/interface.js";
import type { TaskService } from "../orchestration/service/interface.js";
import type { ContentEraser } from "../retention/erasure.js";
import type { TenantSettings } from "../tenants/settings.js";

/**
 * What the audit routes read: receipts, checkpoints and consistency proofs, queued events, and the export archive;
 * and the leaves GET /v1/events streams.
 */
export interface AuditDeps {
  reader: Pick<AuditLogReader, "latestCheckpoint" | "receipt" | "consistency" | "isQueued" | "leavesAfter">;
  exportArchive(request: AuditArchiveRequest): Promise<AuditArchive>;
  /** Queues an event that is not an execution (an operator's change); failures are logged, not thrown. */
  record(event: AuditEvent): Promise<void>;
  /** Queues an event and resolves once it is durable, or throws: for a request that must not be answered unrecorded. */
  append(event: AuditEvent): Promise<void>;
}

/**
 * The log's state beside its entries, for operators (GET /v1/admin/audit and /v1/admin/audit/keys): the sequencer's
 * backlog and leadership, and the public keys its checkpoints verify with, as auditors are handed them.
 */
export interface AuditStatus {
  backlog(): Promise<AuditBacklog>;
  isLeader(): boolean;
  /** The signing key first, then retired ones: each as a JWK (kid: the note key name) and as people name it. */
  publicKeys: ReadonlyArray<{ jwk: Record<string, string>; identity: KeyIdentity }>;
}

/** The API keys the admin routes manage, and this gateway's authenticator, which forgets a revoked key at once. */
export interface ApiKeyAdmin {
  store: Pick<ApiKeyStore, "create" | "createFirst" | "list" | "revoke">;
  forget(id: string): void;
}

/**
 * Serving models without a restart: the pins brought into force, and an operator's unload and load of one, stored
 * (with its audit event, in one transaction) for every gateway and worker of the database, and made here at once.
 */
export interface ModelAdmin {
  reload(): PinsReload;
  /** Drains, then unloads, a pinned model; `drainTimeoutMs` overrides models.drainTimeoutMs. */
  unload(id: string, drainTimeoutMs: number | undefined, by: ServiceChangeBy): Promise<ServingChange>;
  load(id: string, by: ServiceChangeBy): Promise<ServingChange>;
}

/** Everything the HTTP layer needs, injected so tests and the benchmark can swap any part. */
export interface GatewayDeps extends PipelineDeps {
  schemas: SchemaStore;
  health: DatabaseHealth;
  audit: AuditDeps;
  /** Who may call /v1/*, and where refusals are recorded. */
  access: AuthenticateOptions;
  /** Issuing, listing and revoking API keys over HTTP; absent (no routes) where keys are not in a store. */
  apiKeys?: ApiKeyAdmin;
  /** Models changed while the gateway runs (/v1/admin/models/...); absent where models are fixed. */
  modelAdmin?: ModelAdmin;
  /** The audit log's backlog, leadership and public keys; absent (no routes) where no sequencer runs beside the app. */
  auditStatus?: AuditStatus;
  /** Bidding for "auto", outcome tracking and feedback: always present behind HTTP. */
  routing: Routing;
  /** The data-isolation policy: every model choice is checked against it. */
  policy: PolicyDecider & Pick<PolicyStore, "reload">;
  /**
   * Announces a reload to the other gateways of the database (in force on all of them); absent, a reload is this
   * gateway's alone (a process with no database of its own to share, e.g. a benchmark's).
   */
  policyReloads?: Pick<PolicyFollower, "announce">;
  /** Asynchronous tasks: durable workflows on Temporal, or a service that refuses them when orchestration is off. */
  tasks: TaskService;
  /** Origins an asynchronous task's webhook may be sent to, and deliveries per webhook before it is given up. */
  webhooks: { allow: readonly string[]; maxAttempts: number };
  /** Erasure of stored execution content on demand (POST /v1/admin/erasure); the retention job shares it. */
  erasure: ContentEraser;
  /** Inference-time adaptation and its operator controls; absent when adaptation.enabled is false. */
  adaptation?: Adaptation & { admin: AdaptationAdmin };
  /** Per-tenant request rates and daily token budgets. */
  quotas: Quotas;
  /** Tenants' limits and bidding criteria changed over HTTP; absent (no routes) where they are not in a store. */
  tenantSettings?: TenantSettings;
  logger: Logger;
  bodyLimitBytes: number;
  /** GET /metrics on this app, behind the metrics:read scope; false or absent where a listener of its own serves them. */
  serveMetrics?: boolean;
  /** A span per request, continuing a caller's `traceparent` (tracing.enabled); absent or false: none. */
  traceRequests?: boolean;
  /** Browser origins allowed by CORS; absent or empty → no CORS headers. */
  cors?: { origins: readonly string[] };
}
