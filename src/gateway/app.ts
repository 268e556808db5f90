import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { GatewayDeps } from "./deps.js";
import { ApiError } from "./errors.js";
import { bodyLimit } from "./middleware/body-limit/index.js";
import { errorHandler, notFoundHandler } from "./middleware/errors/index.js";
import { authenticate } from "./middleware/auth/index.js";
import { corsFor } from "./middleware/cors/index.js";
import { rateLimit } from "./middleware/quotas/index.js";
import { dataClassification } from "./middleware/classification/index.js";
import { httpMetrics } from "./middleware/metrics/index.js";
import { requestContext } from "./middleware/request-context/index.js";
import { httpTracing } from "./middleware/tracing/index.js";
import { registerHealth } from "./routes/health.js";
import { registerMetrics } from "./routes/metrics.js";
import { registerAudit } from "./routes/v1_audit.js";
import { registerChatCompletions } from "./routes/v1_chat_completions.js";
import { registerCompletions } from "./routes/v1_completions.js";
import { registerEmbeddings } from "./routes/v1_embeddings.js";
import { registerEvents } from "./routes/v1_events.js";
import { registerResponses } from "./routes/v1_responses.js";
import { registerResponsesGet } from "./routes/v1_responses_get.js";
import { registerExecutionsGet } from "./routes/v1_executions_get.js";
import { registerExecutionReceipt } from "./routes/v1_executions_receipt.js";
import { registerDecisionsGet } from "./routes/v1_decisions_get.js";
import { registerFeedback } from "./routes/v1_feedback.js";
import { registerAdminAdaptation } from "./routes/v1_admin_adaptation.js";
import { registerAdminAdaptationFits } from "./routes/v1_admin_adaptation_fits.js";
import { registerAdminApiKeys } from "./routes/v1_admin_apikeys.js";
import { registerAdminModels } from "./routes/v1_admin_models.js";
import { registerAdminBidding } from "./routes/v1_admin_bidding.js";
import { registerAdminErasure } from "./routes/v1_admin_erasure.js";
import { registerAdminPolicy } from "./routes/v1_admin_policy.js";
import { exemptFromRateLimit, registerAdminTenants } from "./routes/v1_admin_tenants.js";
import { registerModels } from "./routes/v1_models.js";
import { registerSchemas } from "./routes/v1_schemas.js";
import { registerTasks } from "./routes/v1_tasks.js";
import { registerTasksCancel } from "./routes/v1_tasks_cancel.js";
import { registerTasksEvents } from "./routes/v1_tasks_events.js";
import { registerTasksGet } from "./routes/v1_tasks_get.js";
import { registerOpenApi } from "./openapi/route.js";
import { registerAdminAudit } from "./routes/v1_admin_audit.js";
import { registerAdminExecutions } from "./routes/v1_admin_executions.js";
import { registerAdminOverview } from "./routes/v1_admin_overview.js";
import { registerUi } from "../ui/route.js";

/** The gateway's HTTP surface. It holds no state of its own: everything it uses arrives in `deps`. */
export function createApp(deps: GatewayDeps): Hono {
  const app = new Hono();
  // First, so that whatever answers below — a route, a refusal, an error — is counted and timed.
  if (deps.metrics !== undefined) app.use(httpMetrics(deps.metrics));
  // Before the request context, whose logger carries the span's trace id.
  if (deps.traceRequests === true) app.use(httpTracing());
  app.use(requestContext({ logger: deps.logger }));
  app.use(secureHeaders());
  // No origins configured, no CORS headers at all: browsers then keep every other site's pages from reading answers.
  if (deps.cors !== undefined && deps.cors.origins.length > 0) app.use(corsFor(deps.cors.origins));
  app.use(
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        // The rest of the body is never read, so the connection cannot carry another request.
        throw new ApiError(413, "invalid_request_error", "request_too_large", `the request body exceeds ${deps.bodyLimitBytes} bytes`, null, { Connection: "close" });
      },
    }),
  );
  app.onError(errorHandler());
  app.notFound(notFoundHandler());

  registerHealth(app, deps);
  if (deps.metrics !== undefined && deps.serveMetrics === true) registerMetrics(app, { metrics: deps.metrics, access: deps.access });
  // Everything below /v1 is someone's work or someone's data: nothing there answers an unauthenticated caller.
  app.use("/v1/*", authenticate(deps.access));
  // Except an admin's own tenant settings: an admin whose tenant is throttled can still lift the limit.
  const rateLimited = rateLimit(deps.quotas);
  app.use("/v1/*", (c, next) => (exemptFromRateLimit(c) ? next() : rateLimited(c, next)));
  app.use("/v1/*", dataClassification(deps.policy));
  registerModels(app, deps);
  registerChatCompletions(app, deps);
  registerCompletions(app, deps);
  registerResponses(app, deps);
  registerResponsesGet(app, deps);
  registerEmbeddings(app, deps);
  registerTasks(app, deps);
  registerTasksGet(app, deps);
  registerTasksEvents(app, deps);
  registerTasksCancel(app, deps);
  registerExecutionsGet(app, deps);
  registerExecutionReceipt(app, deps);
  registerDecisionsGet(app, deps);
  registerFeedback(app, deps);
  registerEvents(app, deps);
  registerAdminBidding(app, deps);
  registerAdminAdaptation(app, deps);
  registerAdminAdaptationFits(app, deps);
  registerAdminPolicy(app, deps);
  registerAdminErasure(app, deps);
  if (deps.apiKeys !== undefined) registerAdminApiKeys(app, deps.apiKeys);
  if (deps.tenantSettings !== undefined) registerAdminTenants(app, deps.tenantSettings);
  if (deps.modelAdmin !== undefined) registerAdminModels(app, deps, deps.modelAdmin);
  registerSchemas(app, deps);
  registerAudit(app, deps);
  // The operators' dashboard (/ui) and the admin routes only it needs.
  registerAdminOverview(app, deps);
  registerAdminExecutions(app, deps);
  if (deps.auditStatus !== undefined) registerAdminAudit(app, deps, deps.auditStatus);
  registerUi(app);
  registerOpenApi(app);
  return app;
}
