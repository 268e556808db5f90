import { isGrpcDeadlineError, isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from "@temporalio/client";
import { askToCancel, getTaskStatus, submitTask, taskTenant, type CancelOutcome, type SubmitOptions } from "../client.js";
import type { TaskInput } from "../types.js";
import { taskWorkflow } from "../workflows/task.js";
import { OrchestrationUnavailableError, TaskConflictError, type TaskService } from "./interface.js";

/**
 * How long one call to Temporal may take, retries included. Down, the client retried for 9–19 s before failing, and
 * the caller got a 500; now it gets a 503 it can retry, within this.
 */
export const TEMPORAL_CALL_DEADLINE_MS = 10_000;

/** gRPC's UNAVAILABLE: nothing answers at the address, or the connection broke. */
const GRPC_UNAVAILABLE = 14;
/** gRPC's RESOURCE_EXHAUSTED: a limit of the server's, e.g. the updates one workflow may have in flight (racing cancels). */
const GRPC_RESOURCE_EXHAUSTED = 8;

/** Tasks as Temporal workflows (workflow id = task id), their tenant kept in the workflow's memo. */
export class TemporalTaskService implements TaskService {
  readonly available = true;

  constructor(private readonly client: Client, private readonly options: SubmitOptions & { callDeadlineMs?: number } = {}) {}

  async submit(input: TaskInput): Promise<void> {
    try {
      await this.reachable(() => submitTask(this.client, input, this.options));
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new TaskConflictError(`task ${input.taskId} already exists`);
      throw error;
    }
  }

  get(tenant: string, taskId: string) {
    return this.reachable(() => getTaskStatus(this.client, taskId, tenant));
  }

  cancel(tenant: string, taskId: string): Promise<CancelOutcome | null> {
    return this.reachable(async () => {
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
      return askToCancel(handle);
    });
  }

  /** Runs `call` within the deadline; Temporal unreachable or too slow becomes OrchestrationUnavailableError. */
  private async reachable<R>(call: () => Promise<R>): Promise<R> {
    const deadlineMs = this.options.callDeadlineMs ?? TEMPORAL_CALL_DEADLINE_MS;
    try {
      return await this.client.withDeadline(Date.now() + deadlineMs, call);
    } catch (error) {
      if (isGrpcDeadlineError(error) || hasGrpcCode(error, GRPC_UNAVAILABLE)) {
        throw new OrchestrationUnavailableError(`Temporal did not answer within ${deadlineMs} ms or cannot be reached: ${(error as Error).message}`);
      }
      if (hasGrpcCode(error, GRPC_RESOURCE_EXHAUSTED)) throw new OrchestrationUnavailableError(`Temporal is at one of its limits, try again: ${(error as Error).message}`);
      throw error;
    }
  }

  /** One visibility query, counted by the server (nothing is listed). */
  async countByState(): Promise<ReadonlyMap<string, number>> {
    const counted = await this.client.workflow.count(`WorkflowType = "${taskWorkflow.name}" GROUP BY ExecutionStatus`);
    return new Map(counted.groups.map((group) => [String(group.groupValues[0]), group.count]));
  }
}

function hasGrpcCode(error: unknown, code: number): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (isGrpcServiceError(cause) && cause.code === code) return true;
  }
  return false;
}
