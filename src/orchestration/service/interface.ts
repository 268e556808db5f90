import type { CancelOutcome, TaskStatus } from "../client.js";
import type { TaskInput } from "../types.js";

/**
 * What the gateway asks of orchestration: start a task, read it, cancel it. Every read and cancel names the
 * caller's tenant, and a task of another tenant is indistinguishable from one that does not exist.
 */
export interface TaskService {
  /** False when orchestration is off: asynchronous tasks are refused (503) rather than queued nowhere. */
  readonly available: boolean;
  /** Starts the task durably; resolves once Temporal has it. Throws TaskConflictError for an id already used. */
  submit(input: TaskInput): Promise<void>;
  /** The task as its tenant sees it; null when unknown or another tenant's. */
  get(tenant: string, taskId: string): Promise<TaskStatus | null>;
  /**
   * Asks a running task to stop (askToCancel in client.ts): "cancelling" for the one cancel that takes effect,
   * "already_cancelling" for any other while it does, "recorded" once the task's result is recorded (final: nothing
   * stops), "not_running" when it has ended; null when unknown or another tenant's.
   */
  cancel(tenant: string, taskId: string): Promise<CancelOutcome | null>;
  /** Tasks of every tenant by workflow status (`Running`, `Completed`, `Failed`, …), for metrics; absent when off. */
  countByState?(): Promise<ReadonlyMap<string, number>>;
}

export class TaskConflictError extends Error {
  override readonly name = "TaskConflictError";
}

/** Temporal did not answer in time or could not be reached: the caller may retry (503 orchestration_unavailable). */
export class OrchestrationUnavailableError extends Error {
  override readonly name = "OrchestrationUnavailableError";
}
