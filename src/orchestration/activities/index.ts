/**
 * Activities: the side effects of the pipeline (inference, reads of the host directory, database writes, the
 * learner, webhooks), each built by a factory from injected deps so that tests and workers wire them explicitly.
 */
export { createControlActivities, placeModels, validateMicrotaskResults, type ControlActivityDeps, type HostDirectoryReader } from "./control.js";
export { createGatewayActivities, WEBHOOK_SIGNATURE_TYPE, type GatewayActivityDeps, type WebhookSignaturePayload } from "./gateway.js";
export { createInferenceActivities, attemptExecutionId, DEFAULT_CANCEL_CHECK_MS, type InferenceActivityDeps } from "./inference.js";
