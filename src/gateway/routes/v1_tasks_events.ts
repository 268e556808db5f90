import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { OrchestrationUnavailableError } from "../../orchestration/service/interface.js";
import { setTimeout as delay } from "node:timers/promises";
import { readEvent } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError, orchestrationUnavailable, unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { erasedContent, TaskPath, taskBody } from "./v1_tasks_get.js";

const ROUTE = "/v1/tasks/:id/events";

/** How often a running task's progress is read for its event stream: a query to Temporal each time. */
const POLL_MS = 250;

/**
 * GET /v1/tasks/:id/events — server-sent events: a `progress` event whenever what the task reports changes, then
 * one `done` event with the final task (result or error) as soon as it is recorded — a webhook still being delivered
 * shows `{pending: true}` there, GET /v1/tasks/:id tells its outcome later —, then the stream ends. Progress is read from the
 * workflow, so the stream survives a gateway that did not start the task, and may be reopened at any time. A `done`
 * event carrying the result is a `content.read` audit event.
 */
export function registerTasksEvents(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("tasks"), async (c) => {
    const { id } = parseParams(TaskPath, c.req.param());
    const tenant = c.get("principal").tenant;
    // Asked once before the stream starts, so an unknown task is a plain 404 rather than an empty stream.
    const first = await deps.tasks.get(tenant, id);
    if (first === null) throw unknownToTenant("task_not_found", `task ${id} does not exist`, "id");
    const signal = c.req.raw.signal;
    return streamSSE(c, async (stream) => {
      let status = first;
      let sent = "";
      let sequence = 0;
      for (;;) {
        const erased = status.state === "completed" ? await erasedContent(deps, tenant, id) : undefined;
        const body = JSON.stringify(taskBody(status, erased));
        if (status.state !== "running") {
          // The result is the task's content: recorded, as GET /v1/tasks/:id records it, before it is sent.
          if (status.state === "completed") await deps.audit.append(readEvent("content.read", c, ROUTE, { status: "succeeded" }, { taskId: id }));
          await stream.writeSSE({ event: "done", id: String(++sequence), data: body });
          return;
        }
        if (body !== sent) {
          await stream.writeSSE({ event: "progress", id: String(++sequence), data: body });
          sent = body;
        }
        await delay(POLL_MS, undefined, { signal }).catch(() => undefined);
        if (signal.aborted || stream.aborted) return;
        const next = await deps.tasks.get(tenant, id);
        if (next === null) return;
        status = next;
      }
    }, async (error, stream) => {
      // Once streaming, a failure can only be told as an event: Temporal gone away, most likely.
      c.get("log")?.warn({ err: error }, "task events stream ended by an error");
      const refusal = error instanceof OrchestrationUnavailableError
        ? orchestrationUnavailable()
        : new ApiError(500, "server_error", "internal_error", "internal error; see the gateway log for this request id");
      await stream.writeSSE({ event: "error", data: JSON.stringify(refusal.toBody()) });
    });
  });
}
