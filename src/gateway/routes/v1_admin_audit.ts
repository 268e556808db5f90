import type { Hono } from "hono";
import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { AuditDeps, AuditStatus } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { NoQuery } from "./v1_audit.js";

/** How far back the refusals are looked for: the newest leaves of the signed tree, one indexed range read. */
const REFUSAL_SCAN = 2000;
const MAX_REFUSALS = 50;

/**
 * The audit log's health for operators (the dashboard's audit view), scope operator:
 *   GET /v1/admin/audit       — the latest signed checkpoint and its age, the sequencer's backlog and leadership, and
 *                               the policy refusals among the newest REFUSAL_SCAN leaves. It reads entries, so it is
 *                               itself recorded as `audit.read` before it answers, as the auditors' routes are.
 *   GET /v1/admin/audit/keys  — the public keys checkpoints verify with (scope audit:read or operator): what the
 *                               dashboard checks receipts against, with the key id and fingerprint to compare out of band.
 */
export function registerAdminAudit(app: Hono, deps: { audit: AuditDeps }, status: AuditStatus): void {
  app.get("/v1/admin/audit", requireScope("operator"), async (c) => {
    parseParams(NoQuery, c.req.query());
    const [checkpoint, backlog] = await Promise.all([deps.audit.reader.latestCheckpoint(), status.backlog()]);
    const size = checkpoint?.size ?? 0;
    const from = Math.max(0, size - REFUSAL_SCAN);
    const leaves = size === 0 ? [] : await deps.audit.reader.leavesAfter(from - 1, size - from);
    const refusals = leaves.map(({ index, leaf }) => policyRefusal(index, leaf)).filter((refusal) => refusal !== null).reverse().slice(0, MAX_REFUSALS);
    await deps.audit.append(systemEvent("audit.read", {
      actor: actorOf(c),
      request: { id: c.get("requestId"), endpoint: "GET /v1/admin/audit" },
      outcome: { status: "succeeded" },
      detail: { from, to: size },
    }));
    return c.json({
      object: "admin.audit",
      checkpoint: checkpoint === null ? null : {
        size: checkpoint.size,
        root: checkpoint.root.toString("base64"),
        created_at: checkpoint.createdAt.toISOString(),
        // By the database's clock, which the sequencer stamps checkpoints with.
        age_seconds: backlog.checkpointAgeSeconds,
        note: checkpoint.note,
      },
      sequencer: { queued: backlog.queued, oldest_queued_seconds: backlog.oldestQueuedSeconds, leader: status.isLeader() },
      refusals: { scanned: { from, to: size }, data: refusals },
    }, 200, { "cache-control": "no-store" });
  });

  app.get("/v1/admin/audit/keys", requireScope("audit:read", "operator"), (c) => {
    parseParams(NoQuery, c.req.query());
    return c.json({
      object: "audit.keys",
      keys: status.publicKeys.map(({ jwk, identity }, i) => ({ jwk, key_id: identity.keyId, fingerprint: identity.fingerprint, current: i === 0 })),
    });
  });
}

/** A leaf that records a request refused by the policy, as the view lists it; null for any other leaf. */
function policyRefusal(index: number, leaf: Buffer) {
  const { event } = JSON.parse(leaf.toString("utf8")) as { event: AuditEvent };
  if (event.kind !== "request.refused" || event.outcome?.code !== "policy_denied") return null;
  return {
    index,
    event_id: event.id,
    time: event.time,
    tenant: event.actor?.tenant ?? null,
    subject: event.actor?.subject ?? null,
    endpoint: event.request?.endpoint ?? null,
    reason: typeof event.detail?.["reason"] === "string" ? event.detail["reason"] : null,
  };
}
