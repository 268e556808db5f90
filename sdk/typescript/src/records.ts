import type { Decision, Execution, Feedback, FeedbackRequest } from "./api-types.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";

/** GET /v1/executions/{id}: what was stored for one request (or one asynchronous task, under its id). */
export class Executions {
  constructor(private readonly http: Http) {}

  get(id: string, options?: CallOptions): Promise<Execution> {
    return this.http.json(ROUTES.getExecution, { params: { id }, options });
  }
}

/** POST /v1/feedback: the caller's score for an answer, which the bidding learner and adaptation learn from. */
export class FeedbackApi {
  constructor(private readonly http: Http) {}

  create(request: FeedbackRequest, options?: CallOptions): Promise<Feedback> {
    return this.http.json(ROUTES.createFeedback, { body: request, options });
  }
}

/**
 * Bidding decisions. The gateway has no route of their own: a decision is stored under the execution's id (the
 * `x-atomic-decision-id` header names it) and answered inside the execution record, so that is where it is read.
 * A running asynchronous task has no execution record yet: its decision is in `tasks.get(id)`.
 */
export class Decisions {
  constructor(private readonly executions: Executions) {}

  /** The decision behind an execution; null when the caller named the model and nothing was bid for. */
  async get(id: string, options?: CallOptions): Promise<Decision | null> {
    return (await this.executions.get(id, options)).decision;
  }
}
