import type { Hono } from "hono";
import { stream } from "hono/streaming";
import { z } from "zod";
import { leafHash } from "../../audit/core/merkle.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { ApiError, notFound } from "../errors.js";
import { parseParams } from "../validation.js";

const Position = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.iso.datetime({ offset: true }).transform((t) => new Date(t))]);
const ExportQuery = z.strictObject({
  from: Position.optional(),
  to: Position.optional(),
  previous_size: z.string().regex(/^\d{1,15}$/, "a whole number").transform(Number).optional(),
});

/**
 * The audit log for auditors: the latest signed checkpoint, a receipt (leaf + inclusion proof) per event, and the
 * whole export as a tar stream — the same files `atomic audit export` writes, verifiable offline with
 * audit/verify.mjs. These are the site auditor's: `audit:read` and `audit:export` span every tenant, since the log
 * is one log; entries carry hashes and names, never content.
 */
export function registerAudit(app: Hono, deps: GatewayDeps): void {
  app.get("/v1/audit/checkpoint", requireScope("audit:read", "audit:export"), async (c) => {
    const checkpoint = await deps.audit.reader.latestCheckpoint();
    if (!checkpoint) throw notFound("audit_log_empty", "the audit log has no signed checkpoint yet");
    return c.text(checkpoint.note);
  });

  app.get("/v1/audit/receipt/:eventId", requireScope("audit:read"), async (c) => {
    const eventId = c.req.param("eventId");
    let receipt = await deps.audit.reader.receipt(eventId);
    if (!receipt) {
      if (await deps.audit.reader.isQueued(eventId)) {
        throw new ApiError(404, "not_found_error", "audit_event_pending", `audit event ${eventId} is queued and not yet sequenced`, "eventId", { "Retry-After": "1" });
      }
      // The sequencer moves an event from the queue to the log in one transaction: absent from both reads means
      // it was sequenced between them, and is in the log now, unless it never existed.
      receipt = await deps.audit.reader.receipt(eventId);
      if (!receipt) throw notFound("audit_event_not_found", `audit event ${eventId} does not exist`, "eventId");
    }
    return c.json({
      object: "audit.receipt",
      event_id: receipt.eventId,
      index: receipt.index,
      leaf: receipt.leaf.toString("utf8"),
      leaf_hash: leafHash(receipt.leaf).toString("base64"),
      tree_size: receipt.checkpoint.size,
      root: receipt.checkpoint.root.toString("base64"),
      checkpoint: receipt.checkpoint.note,
      inclusion_proof: receipt.proof.map((hash) => hash.toString("base64")),
    });
  });

  app.get("/v1/audit/export", requireScope("audit:export"), async (c) => {
    const query = parseParams(ExportQuery, c.req.query());
    let archive;
    try {
      archive = await deps.audit.exportArchive({ from: query.from, to: query.to, previousSize: query.previous_size });
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError(400, "invalid_request_error", "audit_range_invalid", error.message);
      throw error;
    }
    c.header("content-type", "application/x-tar");
    c.header("content-length", String(archive.bytes));
    c.header("content-disposition", `attachment; filename="atomic-audit-${archive.from}-${archive.to}.tar"`);
    return stream(c, async (out) => {
      for await (const chunk of archive.chunks) await out.write(chunk);
    });
  });
}
