import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from "@temporalio/client";
import { getTaskStatus, submitTask, taskTenant, type SubmitOptions } from "../client.js";
import type { TaskInput } from "../types.js";
import { taskWorkflow } from "../workflows/task.js";
import { TaskConflictError, type TaskService } from "./interface.js";

/** Tasks as Temporal workflows (workflow id = task id), their tenant kept in the workflow's memo. */
export class TemporalTaskService implements TaskService {
  readonly available = true;

  constructor(private readonly client: Client, private readonly options: SubmitOptions = {}) {}

  async submit(input: TaskInput): Promise<void> {
    try {
      await submitTask(this.client, input, this.options);
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new TaskConflictError(`task ${input.taskId} already exists`);
      throw error;
    }
  }

  get(tenant: string, taskId: string) {
    return getTaskStatus(this.client, taskId, tenant);
  }

  async cancel(tenant: string, taskId: string): Promise<"cancelling" | "not_running" | null> {
    const handle = this.client.workflow.getHandle(taskId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
    if (taskTenant(description.memo) !== tenant) return null;
    if (description.status.name !== "RUNNING") return "not_running";
    await handle.cancel();
    return "cancelling";
  }

  /** One visibility query, counted by the server (nothing is listed). */
  async countByState(): Promise<ReadonlyMap<string, number>> {
    const counted = await this.client.workflow.count(`WorkflowType = "${taskWorkflow.name}" GROUP BY ExecutionStatus`);
    return new Map(counted.groups.map((group) => [String(group.groupValues[0]), group.count]));
  }
}
