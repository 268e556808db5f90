import { ApplicationFailure, Context } from "@temporalio/activity";
import { createHash } from "node:crypto";
import { CompactSign } from "jose";
import type { AuditEvent } from "../../audit/core/entry.js";
import type { SigningKey } from "../../audit/core/keys.js";
import { systemEvent } from "../../audit/events.js";
import { UnknownExecutionError } from "../../bidding/errors.js";
import type { ExecutionOutcome } from "../../bidding/tracker.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics/interface.js";
import type { ExecutionRecord, ExecutionStore } from "../../store/interface.js";
import type { GatewayActivities, RecordOutcomesRequest, WebhookOutcome, WebhookRequest } from "../types.js";

/** The JWS "typ" of a webhook signature, so it cannot be mistaken for (or replayed as) any other token. */
export const WEBHOOK_SIGNATURE_TYPE = "atomic-webhook+jwt";

/** What the x-atomic-signature JWS signs: the delivery, and the digest of the exact body bytes sent. */
export interface WebhookSignaturePayload {
  taskId: string;
  attempt: number;
  /** Seconds since the epoch when this attempt was signed. */
  iat: number;
  /** SHA-256 of the body bytes, lowercase hex. */
  bodySha256: string;
}

export interface GatewayActivityDeps {
  /** The bidding learner (BiddingRouter); absent: outcomes are not learned from. */
  learner?: { recordOutcome(outcome: ExecutionOutcome): Promise<unknown> };
  /**
   * Outcomes the learner already holds for an execution (a BiddingStore fits): a retried recordOutcomes skips them,
   * since the learner would take a second copy of the same outcome as a second lesson. Without it, only this
   * process remembers what it recorded.
   */
  outcomes?: { getOutcomes(executionId: string): Promise<ReadonlyArray<{ microtaskId: string }>> };
  executions: ExecutionStore;
  /** Signs webhook deliveries: the audit log's key, whose public JWK receivers verify with. */
  signer: SigningKey;
  /** Origins webhooks may go to, exactly as URL.origin writes them ("http://10.0.0.5:8443"). */
  webhookAllow: readonly string[];
  /** Records each webhook attempt in the audit log. */
  audit?: (event: AuditEvent) => Promise<void>;
  /** Counts each webhook attempt by outcome. */
  metrics?: Pick<Metrics, "webhookDelivery">;
  logger: Logger;
  /** One delivery attempt's HTTP timeout; capped below the activity's start-to-close timeout. Default 10 s. */
  webhookTimeoutMs?: number;
}

const REMEMBERED_OUTCOMES = 10_000;

/** The outcome the learner takes for one microtask, with timings and retries from its execution record. */
function outcomeOf(taskId: string, microtask: RecordOutcomesRequest["microtasks"][number], record: ExecutionRecord | null): ExecutionOutcome {
  const attempts = record?.parameters["attempts"];
  const structured = record?.parameters["grammar"] === "json_schema";
  const failed = microtask.status !== "succeeded";
  const schemaValid = microtask.error?.code === "schema_violation" || microtask.error?.code === "structured_output_invalid" ? false : structured ? !failed : null;
  return {
    executionId: taskId,
    microtaskId: microtask.id,
    modelId: microtask.model!,
    promptTokens: microtask.promptTokens,
    completionTokens: microtask.completionTokens,
    queueMs: record?.timings.queueMs ?? 0,
    inferenceMs: record?.timings.inferenceMs ?? 0,
    errorCode: failed ? (microtask.error?.code ?? "failed") : null,
    schemaValid,
    attempts: typeof attempts === "number" && attempts >= 1 ? attempts : 1,
  };
}

/** Why an attempt got no answer: the timeout, the socket's error code, or a generic network failure. */
function networkErrorCode(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "timeout";
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : "network_error";
}

/** Statuses a later attempt may fare better with; any other 4xx says the request itself is refused. */
const retryable = (status: number) => status < 400 || status >= 500 || status === 408 || status === 429;

/** Activities the gateway process serves on GATEWAY_TASK_QUEUE; the deps are injected, never global. */
export function createGatewayActivities(deps: GatewayActivityDeps): GatewayActivities {
  const log = deps.logger;
  const allowed = new Set(deps.webhookAllow);
  // What this process already taught the learner (task id + microtask id), oldest first, bounded.
  const taught = new Set<string>();
  const remember = (key: string) => {
    taught.add(key);
    if (taught.size > REMEMBERED_OUTCOMES) taught.delete(taught.values().next().value as string);
  };

  return {
    async recordOutcomes({ taskId, tenant, microtasks }: RecordOutcomesRequest): Promise<{ recorded: number }> {
      const learner = deps.learner;
      if (learner === undefined) {
        log.info({ task: taskId }, "task outcomes not learned from: this gateway has no learner");
        return { recorded: 0 };
      }
      const stored = new Set((await deps.outcomes?.getOutcomes(taskId))?.map((o) => o.microtaskId) ?? []);
      let recorded = 0;
      const unknown: string[] = [];
      for (const microtask of microtasks) {
        if (microtask.model === undefined || microtask.executionId === undefined) continue;
        const key = `${taskId}\n${microtask.id}`;
        if (taught.has(key) || stored.has(microtask.id)) {
          recorded++;
          continue;
        }
        const record = await deps.executions.get(tenant, microtask.executionId);
        if (record === null) log.warn({ task: taskId, microtask: microtask.id, executionId: microtask.executionId }, "microtask execution record not found; learning without its timings");
        try {
          await learner.recordOutcome(outcomeOf(taskId, microtask, record));
        } catch (error) {
          // Not a decision bidding made (or not one of its microtasks): nothing to learn, and retrying will not help.
          if (error instanceof UnknownExecutionError) {
            unknown.push(microtask.id);
            continue;
          }
          throw error;
        }
        remember(key);
        recorded++;
      }
      if (recorded === 0 && unknown.length > 0) {
        throw ApplicationFailure.nonRetryable(`the learner has no decision for task ${taskId} (microtasks ${unknown.join(", ")})`, "unknown_decision");
      }
      if (unknown.length > 0) log.warn({ task: taskId, microtasks: unknown }, "microtasks not in the task's bidding decision; not learned from");
      log.info({ task: taskId, recorded }, "task outcomes learned from");
      return { recorded };
    },

    async deliverWebhook({ taskId, tenant, url, body }: WebhookRequest): Promise<WebhookOutcome> {
      const context = Context.current();
      const { attempt, startToCloseTimeoutMs } = context.info;
      let target: URL | undefined;
      try {
        target = new URL(url);
      } catch {
        target = undefined;
      }
      // Only the origin is ever logged or audited: a path or query may carry the receiver's secret.
      const origin = target?.origin ?? "(not a URL)";
      const audit = async (detail: { status: number | null; error?: string; delivered: boolean }, outcome: NonNullable<AuditEvent["outcome"]>) => {
        deps.metrics?.webhookDelivery(outcome.status);
        await deps.audit?.(systemEvent("webhook.attempt", {
          actor: { tenant },
          outcome,
          detail: { taskId, origin, attempt, ...detail },
        }));
      };

      // The gateway checked the origin at submission; the list may have changed since, and history can be forged.
      if (target === undefined || (target.protocol !== "http:" && target.protocol !== "https:") || !allowed.has(target.origin)) {
        await audit({ status: null, error: "webhook_not_allowed", delivered: false }, { status: "refused", code: "webhook_not_allowed" });
        log.warn({ task: taskId, origin, attempt }, "webhook refused: origin not on webhooks.allow");
        throw ApplicationFailure.nonRetryable(`webhook origin ${origin} is not on this gateway's webhooks.allow list`, "webhook_not_allowed");
      }

      const bytes = Buffer.from(JSON.stringify(body), "utf8");
      const payload: WebhookSignaturePayload = {
        taskId,
        attempt,
        iat: Math.floor(Date.now() / 1000),
        bodySha256: createHash("sha256").update(bytes).digest("hex"),
      };
      const signature = await new CompactSign(Buffer.from(JSON.stringify(payload), "utf8"))
        .setProtectedHeader({ alg: "EdDSA", kid: deps.signer.name, typ: WEBHOOK_SIGNATURE_TYPE })
        .sign(deps.signer.privateKey);
      // Leave the activity time to record the attempt after a receiver that never answers.
      const timeoutMs = Math.max(100, Math.min(deps.webhookTimeoutMs ?? 10_000, (startToCloseTimeoutMs ?? Infinity) - 1_000));

      let status: number | null = null;
      let error: string | undefined;
      try {
        const response = await fetch(target, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-atomic-task-id": taskId,
            "x-atomic-delivery-attempt": String(attempt),
            "x-atomic-signature": signature,
          },
          body: bytes,
          // A redirect would send the signed outcome somewhere nobody put on the allowlist.
          redirect: "manual",
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), context.cancellationSignal]),
        });
        status = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (failure) {
        if (context.cancellationSignal.aborted) {
          // The worker is shutting down (or the workflow cancelled): the receiver may have seen this attempt.
          await audit({ status: null, error: "cancelled", delivered: false }, { status: "failed", code: "cancelled" }).catch((auditError: unknown) =>
            log.error({ err: auditError, task: taskId, attempt }, "could not audit a cancelled webhook attempt"));
          throw context.cancellationSignal.reason;
        }
        error = networkErrorCode(failure);
      }

      const delivered = status !== null && status >= 200 && status < 300;
      await audit(
        { status, ...(error === undefined ? {} : { error }), delivered },
        delivered ? { status: "succeeded" } : { status: "failed", code: error ?? `http_${status}` },
      );
      if (delivered) {
        log.info({ task: taskId, origin, attempt, status }, "webhook delivered");
        return { delivered: true, attempts: attempt, status };
      }
      const what = status === null ? `got no answer (${error})` : `answered HTTP ${status}`;
      const nonRetryable = status !== null && !retryable(status);
      log.warn({ task: taskId, origin, attempt, status, error, retrying: !nonRetryable }, "webhook delivery failed");
      throw ApplicationFailure.create({
        type: "webhook_failed",
        message: `webhook delivery attempt ${attempt} to ${origin} ${what}`,
        nonRetryable,
        details: [{ attempt, status, ...(error === undefined ? {} : { error }) }],
      });
    },
  };
}
