import type { Hono } from "hono";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError, unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { taskLinks } from "../tasks.js";
import { parseParams } from "../validation.js";
import { TaskPath } from "./v1_tasks_get.js";

/**
 * POST /v1/tasks/:id/cancel — asks a running task to stop; its in-flight inferences are cancelled and nothing is
 * recorded. The workflow decides, in order with what it does: once its result is recorded the task has ended (409
 * task_not_running, as for a task whose workflow has closed; a pending webhook is still delivered). Concurrent or
 * repeated cancels of a task that is stopping are all answered 202, and the one that took effect is audited as
 * task.cancelled (who stopped which task) before the answer: one event per cancellation.
 */
export function registerTasksCancel(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/tasks/:id/cancel", requireScope("tasks"), async (c) => {
    const { id } = parseParams(TaskPath, c.req.param());
    const outcome = await deps.tasks.cancel(c.get("principal").tenant, id);
    if (outcome === null) throw unknownToTenant("task_not_found", `task ${id} does not exist`, "id");
    if (outcome === "not_running") throw new ApiError(409, "invalid_request_error", "task_not_running", `task ${id} has already ended`, "id");
    if (outcome === "recorded") {
      throw new ApiError(409, "invalid_request_error", "task_not_running", `task ${id} has finished its work: its result is being recorded or is recorded, and is final (a pending webhook is still delivered)`, "id");
    }
    if (outcome === "cancelling") {
      await deps.audit.append(systemEvent("task.cancelled", {
        actor: actorOf(c), request: { id: c.get("requestId"), endpoint: "POST /v1/tasks/:id/cancel" }, outcome: { status: "succeeded" }, detail: { taskId: id },
      }));
    }
    return c.json({ id, object: "task", status: "cancelling", links: taskLinks(id) }, 202);
  });
}
