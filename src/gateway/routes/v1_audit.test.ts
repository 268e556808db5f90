import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../audit/core/entry.js";
import type { StoredCheckpoint } from "../../audit/store/reader.js";
import type { GatewayDeps } from "../deps.js";
import { errorHandler } from "../middleware/errors/index.js";
import { registerAudit } from "./v1_audit.js";

const checkpoint: StoredCheckpoint = { size: 7, root: Buffer.alloc(32), note: "atomic.test\n7\nAAAA\n\n— k x\n", createdAt: new Date() };

/** The audit routes alone, as an auditor with `audit:read` calls them, over a log whose recording can fail. */
function auditApp(append: (event: AuditEvent) => Promise<void>) {
  const recorded: AuditEvent[] = [];
  const app = new Hono();
  app.onError(errorHandler());
  app.use(async (c, next) => {
    c.set("principal", { kind: "api_key", subject: "apikey:auditor", tenant: "default", scopes: new Set(["audit:read"]), tokenIdHash: "ab".repeat(16) });
    c.set("requestId", "req-1");
    await next();
  });
  const audit = {
    reader: { latestCheckpoint: async () => checkpoint, receipt: async () => null, consistency: async () => { throw new Error("unused"); }, isQueued: async () => false, leavesAfter: async () => [] },
    exportArchive: async () => { throw new Error("unused"); },
    record: async (event: AuditEvent) => void recorded.push(event),
    append,
  };
  registerAudit(app, { audit } as unknown as GatewayDeps);
  return { app, recorded };
}

describe("reads of the audit log", () => {
  it("are recorded before they are answered, and not answered when they cannot be recorded", async () => {
    const appended: AuditEvent[] = [];
    const { app } = auditApp(async (event) => void appended.push(event));
    const answered = await app.request("/v1/audit/checkpoint");
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe(checkpoint.note);
    expect(appended).toEqual([expect.objectContaining({ kind: "audit.read", request: { id: "req-1", endpoint: "GET /v1/audit/checkpoint" }, detail: { treeSize: 7 } })]);
    expect(answered.headers.get("x-atomic-audit-event-id")).toBe(appended[0]!.id);

    const { app: failing } = auditApp(async () => { throw new Error("database gone"); });
    const refused = await failing.request("/v1/audit/checkpoint");
    expect(refused.status).toBe(500);
    expect(await refused.text()).not.toContain(checkpoint.note);
  });

  it("record a read the route refuses with its code, and nothing of a path that is no event id", async () => {
    const { app, recorded } = auditApp(async () => undefined);
    expect((await app.request("/v1/audit/receipt/0190c1a2-0000-7000-8000-000000000000")).status).toBe(404);
    expect((await app.request("/v1/audit/receipt/jane.doe@example.org")).status).toBe(400);
    expect(recorded).toEqual([
      expect.objectContaining({ outcome: { status: "failed", code: "audit_event_not_found" }, detail: { eventId: "0190c1a2-0000-7000-8000-000000000000" } }),
      expect.objectContaining({ outcome: { status: "failed", code: "invalid_parameter" }, detail: {} }),
    ]);
    expect(JSON.stringify(recorded)).not.toContain("jane.doe");
  });
});
