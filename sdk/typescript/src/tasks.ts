import type { Task, TaskAccepted, TaskCancelling, TaskEvent, TaskRequest, TaskResult } from "./api-types.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";
import { sleep } from "./sleep.js";
import { serverSentEvents } from "./sse.js";

/** One event of a task's stream: `progress` whenever its state changes, then one `done` with the finished task. */
export interface TaskStreamEvent {
  type: "progress" | "done";
  task: TaskEvent;
}

const TYPES: ReadonlySet<string> = new Set(["progress", "done"]);
/** The pause before a task's stream that ended early is opened again. */
const REOPEN_MS = 250;

/** POST /v1/tasks and an asynchronous task's routes. */
export class Tasks {
  constructor(private readonly http: Http) {}

  /** `mode: "async"`: accepted at once (202), run as a durable workflow; follow it with events(), wait() or get(). */
  create(request: TaskRequest & { mode: "async" }, options?: CallOptions): Promise<TaskAccepted>;
  /** Synchronous (the default): answered with the result, validated against the schema when one is given. */
  create(request: TaskRequest & { mode?: "sync" }, options?: CallOptions): Promise<TaskResult>;
  create(request: TaskRequest, options?: CallOptions): Promise<TaskResult | TaskAccepted>;
  create(request: TaskRequest, options?: CallOptions): Promise<TaskResult | TaskAccepted> {
    return this.http.json(ROUTES.createTask, { body: request, options });
  }

  /** An asynchronous task: its progress while it runs, then its result, microtasks and bidding decision. */
  get(id: string, options?: CallOptions): Promise<Task> {
    return this.http.json(ROUTES.getTask, { params: { id }, options });
  }

  /**
   * Asks a running task to stop; AtomicError `task_not_running` (409) when it has already ended or its result is
   * recorded (final, even while its webhook is still being delivered). Asked again while it stops: the same answer.
   */
  cancel(id: string, options?: CallOptions): Promise<TaskCancelling> {
    return this.http.json(ROUTES.cancelTask, { params: { id }, options });
  }

  /**
   * The task's event stream, read once: its `progress` events, then `done`, then the iteration ends. The stream
   * starts over on every opening (it shows the task's state, not a history), so there is nothing to resume.
   */
  async *events(id: string, options?: CallOptions): AsyncGenerator<TaskStreamEvent> {
    const open = await this.http.stream(ROUTES.streamTaskEvents, { params: { id }, options });
    try {
      for await (const sse of serverSentEvents(open.response.body!)) {
        // An event type this SDK does not know is a newer gateway's addition: what it knows still holds.
        if (TYPES.has(sse.event)) yield { type: sse.event as TaskStreamEvent["type"], task: JSON.parse(sse.data) as TaskEvent };
      }
    } catch (failure) {
      throw open.errorOf(failure);
    } finally {
      open.close();
    }
  }

  /**
   * The finished task, from its `done` event (sent once the result is recorded: a webhook still being delivered
   * shows `{pending: true}`, get() tells its outcome later); the stream is opened again if it ends before (a gateway
   * restart).
   */
  async wait(id: string, options?: CallOptions): Promise<TaskEvent> {
    for (;;) {
      for await (const event of this.events(id, options)) if (event.type === "done") return event.task;
      await sleep(REOPEN_MS, options?.signal);
    }
  }
}
