import type { Hono } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { AUDIT_EVENT_KINDS, decodeLeaf, type AuditEvent } from "../../audit/core/entry.js";
import { canonicalize } from "../../util/canonical-json.js";
import { hasScope } from "../../identity/principal.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError, invalidRequest } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";

/**
 * How often a caught-up stream asks the log for new leaves: one small indexed query per client each time. Events
 * reach a client within this much of being sequenced.
 */
const POLL_MS = 250;
/** Leaves read per query: what one client holds at most, whatever the backlog it catches up on. */
const PAGE_LEAVES = 500;
/** A comment sent on a quiet stream, so that proxies keep it open and a departed client is noticed by the write. */
const KEEPALIVE_MS = 15_000;

const Index = z.string().regex(/^\d{1,15}$/, "a non-negative whole number (an event id)").transform(Number);
export const EventsQuery = z.strictObject({
  after: Index.optional().describe("resume after this event id, for clients that cannot send Last-Event-ID (which wins)"),
  kinds: z.string().optional().describe(`only these kinds, comma-separated: ${AUDIT_EVENT_KINDS.join(", ")}`),
});

/**
 * GET /v1/events — server-sent events of the caller's tenant: every audit event whose actor is of that tenant
 * (executions and tasks as `request`, webhook deliveries, the tenant's own changes), each as the log stores it:
 * digests and names, never content. An event's id is its index in the audit log, which orders every event; a
 * stream resumes after the `Last-Event-ID` (or `?after=`) it is given, so a client that reconnects with the last id
 * it received misses nothing, and one that resumes from an older id gets events again: delivery is at least once.
 * Other tenants' events are skipped, ids included, so the ids a tenant sees have gaps.
 *
 * Scope: those that may read the tenant's executions (GET /v1/executions/:id), since these are the same records
 * with less in them. `audit:read` would be more than needed: it opens the whole log, every tenant's. Without
 * `admin`, a caller sees only the events of the tenant's work (WORK_KINDS), not its administration: who issued
 * which key, which policy or model changed, who read the audit log.
 */
export function registerEvents(app: Hono, deps: GatewayDeps): void {
  app.get("/v1/events", requireScope("infer", "embed", "tasks"), (c) => {
    const query = parseParams(EventsQuery, c.req.query());
    // A browser's EventSource reconnects to the same URL with Last-Event-ID set: the header is the newer position.
    const after = lastEventId(c.req.header("last-event-id")) ?? query.after ?? -1;
    const principal = c.get("principal");
    const visible = hasScope(principal, "admin") ? null : WORK_KINDS;
    const kinds = query.kinds === undefined ? visible : kindsOf(query.kinds, visible);
    const tenant = principal.tenant;
    const signal = c.req.raw.signal;
    const gone = (stream: SSEStreamingApi) => signal.aborted || stream.aborted;
    return streamSSE(c, async (stream) => {
      let cursor = after;
      let written = Date.now();
      try {
        while (!gone(stream)) {
          const page = await deps.audit.reader.leavesAfter(cursor, PAGE_LEAVES);
          for (const { index, leaf } of page) {
            if (gone(stream)) return;
            cursor = index;
            const { event } = decodeLeaf(leaf);
            if (event.actor?.tenant !== tenant || (kinds !== null && !kinds.has(event.kind))) continue;
            // Awaited: a slow client holds the loop back rather than letting unread events pile up here.
            await stream.writeSSE({ id: String(index), event: event.kind, data: canonicalize(event) });
            written = Date.now();
          }
          // A full page means more is waiting: read on without pausing until caught up.
          if (page.length === PAGE_LEAVES) continue;
          if (Date.now() - written >= KEEPALIVE_MS) {
            await stream.write(": keep-alive\n\n");
            written = Date.now();
          }
          await delay(POLL_MS, undefined, { signal }).catch(() => undefined);
        }
      } catch (error) {
        // The client reconnects with the last id it received and loses nothing; the cause is in the log.
        c.get("log")?.error({ err: error }, "event stream failed");
      }
    });
  });
}

function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const parsed = Index.safeParse(header.trim());
  if (!parsed.success) throw invalidRequest("invalid_parameter", "Last-Event-ID must be a non-negative whole number (an event id)", "Last-Event-ID");
  return parsed.data;
}

/**
 * The tenant's work as it happens: requests answered or refused, webhook deliveries, schemas, its reads of its own
 * records, its judgements and cancellations, erasures.
 */
const WORK_KINDS: ReadonlySet<AuditEvent["kind"]> = new Set([
  "request", "request.refused", "webhook.attempt", "schema.registered", "content.read", "feedback.recorded", "task.cancelled", "content.erased",
]);

function kindsOf(list: string, visible: ReadonlySet<AuditEvent["kind"]> | null): ReadonlySet<AuditEvent["kind"]> {
  const known: ReadonlySet<string> = new Set(AUDIT_EVENT_KINDS);
  const kinds = list.split(",").map((kind) => kind.trim());
  const unknown = kinds.find((kind) => !known.has(kind));
  if (unknown !== undefined) throw invalidRequest("unknown_event_kind", `kinds: ${JSON.stringify(unknown)} is not an event kind`, "kinds");
  const hidden = visible === null ? [] : kinds.filter((kind) => !visible.has(kind as AuditEvent["kind"]));
  if (hidden.length > 0) throw new ApiError(403, "permission_error", "insufficient_scope", `the event kinds ${hidden.join(", ")} require the scope admin`);
  return new Set(kinds as AuditEvent["kind"][]);
}
