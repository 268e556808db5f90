import type { Hono } from "hono";
import { stream } from "hono/streaming";
import { z } from "zod";
import { consistencyBody } from "../../audit/verify/consistency-proof.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { auditedRead, proofOrRefusal, receiptOf, type AuditRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { ApiError, notFound } from "../errors.js";
import { parseParams } from "../validation.js";

const Size = z.string().regex(/^\d{1,15}$/, "a whole number").transform(Number);
const Position = z.union([Size, z.iso.datetime({ offset: true }).transform((t) => new Date(t))]);
export const NoQuery = z.strictObject({});
export const ReceiptPath = z.strictObject({ eventId: z.string().regex(UUID_PATTERN, "not an audit event id (a UUID)") });
export const ReceiptQuery = z.strictObject({ tree_size: Size.optional() });
export const ConsistencyQuery = z.strictObject({ from: Size, to: Size.optional() });
export const ExportQuery = z.strictObject({
  from: Position.optional(),
  to: Position.optional(),
  previous_size: Size.optional(),
});

/** On an export that ends before the `to` asked for: that `to` (as an index), and the next signed tree's size. */
export const REQUESTED_TO_HEADER = "x-atomic-audit-requested-to";
export const NEXT_CHECKPOINT_HEADER = "x-atomic-audit-next-checkpoint";

/**
 * The audit log for auditors: signed checkpoints, a receipt (leaf + inclusion proof) per event in the latest tree or
 * one the auditor holds, consistency proofs between two signed trees, and the whole export as a tar stream — the
 * same files `atomic audit export` writes, verifiable offline with audit/verify.mjs (audit/FORMAT.md §7–10). These
 * are the site auditor's: `audit:read` and `audit:export` span every tenant, since the log is one log; entries carry
 * hashes and names, never content.
 *
 * Reading the log is itself recorded (`audit.read`: who, which route, which range), before the answer leaves: a read
 * that cannot be recorded is not answered. A read refused by the route (unknown event, bad range) is recorded too,
 * with its code; refusals by authentication or scope are already `request.refused` events.
 */
export function registerAudit(app: Hono, deps: GatewayDeps): void {
  const audited = (route: string, read: AuditRead) => auditedRead(deps, route, read);

  app.get("/v1/audit/checkpoint", requireScope("audit:read", "audit:export"), audited("/v1/audit/checkpoint", async (c, detail) => {
    parseParams(NoQuery, c.req.query());
    const checkpoint = await deps.audit.reader.latestCheckpoint();
    if (!checkpoint) throw notFound("audit_log_empty", "the audit log has no signed checkpoint yet");
    detail["treeSize"] = checkpoint.size;
    return () => c.text(checkpoint.note);
  }));

  app.get("/v1/audit/receipt/:eventId", requireScope("audit:read"), audited("/v1/audit/receipt/:eventId", async (c, detail) => {
    const { eventId } = parseParams(ReceiptPath, c.req.param());
    const query = parseParams(ReceiptQuery, c.req.query());
    Object.assign(detail, { eventId }, query.tree_size === undefined ? {} : { treeSize: query.tree_size });
    const body = await receiptOf(deps.audit.reader, eventId, query.tree_size, "eventId", detail);
    return () => c.json(body);
  }));

  app.get("/v1/audit/consistency", requireScope("audit:read"), audited("/v1/audit/consistency", async (c, detail) => {
    const query = parseParams(ConsistencyQuery, c.req.query());
    Object.assign(detail, { from: query.from }, query.to === undefined ? {} : { to: query.to });
    const proof = await proofOrRefusal(() => deps.audit.reader.consistency(query.from, query.to), null);
    detail["to"] = proof.new.size;
    return () => c.json(consistencyBody({ old: proof.old, new: proof.new, hashes: proof.proof }));
  }));

  app.get("/v1/audit/export", requireScope("audit:export"), audited("/v1/audit/export", async (c, detail) => {
    const query = parseParams(ExportQuery, c.req.query());
    if (query.previous_size !== undefined) detail["previousSize"] = query.previous_size;
    let archive;
    try {
      archive = await deps.audit.exportArchive({ from: query.from, to: query.to, previousSize: query.previous_size });
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError(400, "invalid_request_error", "audit_range_invalid", error.message);
      throw error;
    }
    Object.assign(detail, { from: archive.from, to: archive.to });
    return () => {
      // An archive ends at a signed tree: one that stops short of the `to` asked for says so, and where all of it is.
      if (archive.shortOf !== undefined) {
        c.header(REQUESTED_TO_HEADER, String(archive.shortOf.requested));
        if (archive.shortOf.nextSize !== null) c.header(NEXT_CHECKPOINT_HEADER, String(archive.shortOf.nextSize));
      }
      c.header("content-type", "application/x-tar");
      c.header("content-length", String(archive.bytes));
      c.header("content-disposition", `attachment; filename="atomic-audit-${archive.from}-${archive.to}.tar"`);
      return stream(c, async (out) => {
        for await (const chunk of archive.chunks) await out.write(chunk);
      });
    };
  }));
}
