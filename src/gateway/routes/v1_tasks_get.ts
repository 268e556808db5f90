import type { Hono } from "hono";
import { z } from "zod";
import type { TaskStatus } from "../../orchestration/client.js";
import type { ExecutionRecord } from "../../store/interface.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { recordRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { taskLinks } from "../tasks.js";

type ContentErased = NonNullable<ExecutionRecord["contentErased"]>;

/**
 * A task as GET /v1/tasks/:id and the events stream show it: running until its result is recorded, then that result,
 * final, even while its workflow still tells the learner or the webhook (those show `{pending: true}`: a webhook
 * receiver that is slow or never answers must not hold back a result that can no longer change). Once its execution's content is erased (`erased`: the
 * record's mark), its result, the microtasks' answers and the messages that could quote them are left out, as the
 * execution record leaves them out: Temporal still holds the workflow's result until its retention ends, and the
 * API must not keep serving what erasure removed.
 */
export function taskBody(status: TaskStatus, erased?: ContentErased) {
  const common = { id: status.taskId, object: "task", mode: "async", links: taskLinks(status.taskId) };
  switch (status.state) {
    case "running":
      return { ...common, status: "running", progress: status.progress };
    case "completed": {
      const { result } = status;
      const withoutMessage = (error: { code: string } | undefined) => (error === undefined ? null : { code: error.code, message: "content erased" });
      return {
        ...common,
        status: result.status,
        result: erased ? null : result.result,
        error: erased ? withoutMessage(result.error) : result.error ?? null,
        microtasks: erased
          ? result.microtasks.map(({ text: _text, value: _value, error, ...kept }) => ({ ...kept, ...(error === undefined ? {} : { error: withoutMessage(error) }) }))
          : result.microtasks,
        learning: result.learning ?? null,
        webhook: result.webhook ?? null,
        content_erased: erased ? { at: erased.at.toISOString(), audit_event_id: erased.auditEventId } : null,
      };
    }
    default:
      return { ...common, status: status.state, error: { code: `task_${status.state}`, message: status.error } };
  }
}

export const TaskPath = z.strictObject({ id: z.string().regex(UUID_PATTERN, "not a task id (a UUID)") });

const ROUTE = "/v1/tasks/:id";

/**
 * GET /v1/tasks/:id — an asynchronous task's progress, or (once recorded) its result and the decision behind each microtask. The
 * read that answers with the result is a `content.read` event; progress, polled while the task runs, discloses no
 * content and leaves none.
 */
export function registerTasksGet(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("tasks"), async (c) => {
    const { id } = parseParams(TaskPath, c.req.param());
    const tenant = c.get("principal").tenant;
    const status = await deps.tasks.get(tenant, id);
    if (status === null) throw unknownToTenant("task_not_found", `task ${id} does not exist`, "id");
    // The bidding decision (plan, every bid, the choice) under the task's id; null when the caller named the model.
    const decision = await deps.routing.router.getDecision(id);
    if (status.state !== "completed") return c.json({ ...taskBody(status), decision });
    const erased = await erasedContent(deps, tenant, id);
    await recordRead(deps, c, ROUTE, { taskId: id }, "content.read");
    return c.json({ ...taskBody(status, erased), decision });
  });
}

/** The erasure mark of a task's own execution record (same id as the task), if its content was erased. */
export async function erasedContent(deps: Pick<GatewayDeps, "executions">, tenant: string, taskId: string): Promise<ContentErased | undefined> {
  return (await deps.executions.get(tenant, taskId))?.contentErased;
}
