export { AtomicClient } from "./client.js";
export type { ClientOptions, CallOptions } from "./http.js";
export { AtomicError, type TransportErrorCode } from "./errors.js";
export type { Tasks, TaskStreamEvent } from "./tasks.js";
export type { Events, AtomicEvent, EventStreamOptions } from "./events.js";
export type { Executions, FeedbackApi, Decisions } from "./records.js";
export type { Schemas } from "./schemas.js";
export type { Audit } from "./audit.js";
export { verifyReceipt, verifyCheckpoint, type ReceiptVerification, type ReceiptFailureCode, type CheckpointVerification } from "./verify-receipt.js";
export { verifyWebhookSignature, type WebhookVerification, type WebhookFailureCode, type WebhookVerificationOptions, type HeadersLike } from "./verify-webhook.js";
export type { PublicJwk, RetiredKey, TrustedKeys, KeyIdentity } from "./keys.js";
export type {
  AuditEvent,
  AuditReceipt,
  Decision,
  Error as ErrorBody,
  Execution,
  Feedback,
  FeedbackRequest,
  JsonValue,
  RegisterSchemaRequest,
  SchemaRecord,
  Task,
  TaskAccepted,
  TaskCancelling,
  TaskEvent,
  TaskRequest,
  TaskResult,
  Usage,
} from "./api-types.js";
