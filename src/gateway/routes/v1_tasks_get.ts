import type { Hono } from "hono";
import { z } from "zod";
import type { TaskStatus } from "../../orchestration/client.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { recordRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { taskLinks } from "../tasks.js";

/** A task as GET /v1/tasks/:id and the events stream show it. */
export function taskBody(status: TaskStatus) {
  const common = { id: status.taskId, object: "task", mode: "async", links: taskLinks(status.taskId) };
  switch (status.state) {
    case "running":
      return { ...common, status: "running", progress: status.progress };
    case "completed":
      return {
        ...common,
        status: status.result.status,
        result: status.result.result,
        error: status.result.error ?? null,
        microtasks: status.result.microtasks,
        learning: status.result.learning ?? null,
        webhook: status.result.webhook ?? null,
      };
    default:
      return { ...common, status: status.state, error: { code: `task_${status.state}`, message: status.error } };
  }
}

export const TaskPath = z.strictObject({ id: z.string().regex(UUID_PATTERN, "not a task id (a UUID)") });

const ROUTE = "/v1/tasks/:id";

/**
 * GET /v1/tasks/:id — an asynchronous task's progress, or its result and the decision behind each microtask. The
 * read that answers with the result is a `content.read` event; progress, polled while the task runs, discloses no
 * content and leaves none.
 */
export function registerTasksGet(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("tasks"), async (c) => {
    const { id } = parseParams(TaskPath, c.req.param());
    const status = await deps.tasks.get(c.get("principal").tenant, id);
    if (status === null) throw unknownToTenant("task_not_found", `task ${id} does not exist`, "id");
    // The bidding decision (plan, every bid, the choice) under the task's id; null when the caller named the model.
    const decision = await deps.routing.router.getDecision(id);
    if (status.state === "completed") await recordRead(deps, c, ROUTE, { taskId: id }, "content.read");
    return c.json({ ...taskBody(status), decision });
  });
}
