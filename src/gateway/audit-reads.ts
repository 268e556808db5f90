import type { Context } from "hono";
import type { AuditEvent } from "../audit/core/entry.js";
import { systemEvent } from "../audit/events.js";
import { AuditProofUnavailable } from "../audit/store/reader.js";
import { receiptBody, type ReceiptBody } from "../audit/verify/receipt.js";
import { actorOf } from "./actor.js";
import type { GatewayDeps } from "./deps.js";
import { ApiError, notFound } from "./errors.js";

/** Response header naming the audit.read event of this very read: the auditor can ask for its receipt too. */
export const AUDIT_EVENT_HEADER = "x-atomic-audit-event-id";

/**
 * One read of the log: fills `detail` with what was asked and what is answered (indexes and sizes only, never an
 * entry), and returns how to answer. Validation comes first, so that `detail` never holds what a caller typed.
 */
export type AuditRead = (c: Context, detail: Record<string, unknown>) => Promise<() => Response | Promise<Response>>;

/** What a read is of: the log itself (`audit.read`), or stored request content (`content.read`). */
export type ReadKind = Extract<AuditEvent["kind"], "audit.read" | "content.read">;

/**
 * A handler that records the read (who, which route, what) before the answer leaves: a read that cannot be recorded
 * is not answered. A read the route refuses with an ApiError is recorded too, with its code. `audit.read` for the
 * log's routes; `content.read` where the answer holds a request's stored input or output, so that an auditor sees
 * who looked at what was asked and answered, an operator's look at another tenant's record included.
 */
export function auditedRead(deps: Pick<GatewayDeps, "audit">, route: string, read: AuditRead, kind: ReadKind = "audit.read") {
  return async (c: Context) => {
    const detail: Record<string, unknown> = {};
    let answer;
    try {
      answer = await read(c, detail);
    } catch (error) {
      if (error instanceof ApiError) await deps.audit.record(readEvent(kind, c, route, { status: "failed", code: error.code }, detail));
      throw error;
    }
    await recordRead(deps, c, route, detail, kind);
    return answer();
  };
}

/** Appends a succeeded read's event before the answer leaves, and names it in the answer's header. */
export async function recordRead(deps: Pick<GatewayDeps, "audit">, c: Context, route: string, detail: Record<string, unknown>, kind: ReadKind): Promise<void> {
  const event = readEvent(kind, c, route, { status: "succeeded" }, detail);
  await deps.audit.append(event);
  c.header(AUDIT_EVENT_HEADER, event.id);
}

export function readEvent(kind: ReadKind, c: Context, route: string, outcome: NonNullable<AuditEvent["outcome"]>, detail: Record<string, unknown>): AuditEvent {
  return systemEvent(kind, { actor: actorOf(c), request: { id: c.get("requestId"), endpoint: `GET ${route}` }, outcome, detail });
}

/**
 * The receipt of one event (FORMAT.md §9), in the latest signed tree or the one of `treeSize` leaves; 404
 * `audit_event_pending` (with Retry-After) while it is queued, `audit_event_not_found` when it never existed. Adds
 * the leaf's index and the tree's size to `detail`.
 */
export async function receiptOf(reader: Pick<GatewayDeps["audit"]["reader"], "receipt" | "isQueued">, eventId: string, treeSize: number | undefined, param: string, detail: Record<string, unknown>): Promise<ReceiptBody> {
  const lookup = () => proofOrRefusal(() => reader.receipt(eventId, { treeSize }), "tree_size");
  let receipt = await lookup();
  if (!receipt) {
    if (await reader.isQueued(eventId)) {
      throw new ApiError(404, "not_found_error", "audit_event_pending", `audit event ${eventId} is queued and not yet sequenced`, param, { "Retry-After": "1" });
    }
    // The sequencer moves an event from the queue to the log in one transaction: absent from both reads means
    // it was sequenced between them, and is in the log now, unless it never existed.
    receipt = await lookup();
    if (!receipt) throw notFound("audit_event_not_found", `audit event ${eventId} does not exist`, param);
  }
  Object.assign(detail, { index: receipt.index, treeSize: receipt.checkpoint.size });
  return receiptBody(receipt);
}

/** A proof the reader cannot make for the sizes asked is the caller's error, with a stable code. */
export async function proofOrRefusal<T>(make: () => Promise<T>, param: string | null): Promise<T> {
  try {
    return await make();
  } catch (error) {
    if (!(error instanceof AuditProofUnavailable)) throw error;
    switch (error.reason) {
      case "no_checkpoint": throw new ApiError(404, "not_found_error", "audit_checkpoint_not_found", error.message, param);
      case "not_in_tree": throw new ApiError(400, "invalid_request_error", "audit_event_not_in_tree", error.message, param);
      case "backwards": throw new ApiError(400, "invalid_request_error", "audit_range_invalid", error.message, param);
    }
  }
}
