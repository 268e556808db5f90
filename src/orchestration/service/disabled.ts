import type { TaskService } from "./interface.js";

/** Orchestration turned off (temporal.enabled: false): nothing is ever queued, so nothing can be found. */
export class DisabledTaskService implements TaskService {
  readonly available = false;

  submit(): Promise<void> {
    return Promise.reject(new Error("orchestration is disabled"));
  }

  get(): Promise<null> {
    return Promise.resolve(null);
  }

  cancel(): Promise<null> {
    return Promise.resolve(null);
  }
}
