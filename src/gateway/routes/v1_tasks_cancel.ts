import type { Hono } from "hono";
import type { GatewayDeps } from "../deps.js";
import { ApiError, notFound } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { taskLinks } from "../tasks.js";

/** POST /v1/tasks/:id/cancel — asks a running task to stop; its in-flight inferences are cancelled. */
export function registerTasksCancel(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/tasks/:id/cancel", requireScope("tasks"), async (c) => {
    const id = c.req.param("id");
    const outcome = await deps.tasks.cancel(c.get("principal").tenant, id);
    if (outcome === null) throw notFound("task_not_found", `task ${id} does not exist`, "id");
    if (outcome === "not_running") throw new ApiError(409, "invalid_request_error", "task_not_running", `task ${id} has already ended`, "id");
    return c.json({ id, object: "task", status: "cancelling", links: taskLinks(id) }, 202);
  });
}
