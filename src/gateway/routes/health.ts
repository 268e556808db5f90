import type { Hono } from "hono";
import type { GatewayDeps } from "../deps.js";

/** /healthz: the process answers. /readyz: the database answers and at least one model is ready to serve. */
export function registerHealth(app: Hono, deps: GatewayDeps): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    let database: "ok" | "unreachable" = "ok";
    try {
      await deps.health.ping();
    } catch (error) {
      c.get("log").warn({ err: error }, "readiness: database unreachable");
      database = "unreachable";
    }
    const models = deps.models.list().map(({ model, status }) => ({ id: model.id, state: status.state, ...(status.reasonCode ? { reason_code: status.reasonCode } : {}) }));
    const ready = database === "ok" && models.some((m) => m.state === "ready");
    return c.json({ status: ready ? "ready" : "not_ready", database, models }, ready ? 200 : 503);
  });
}
