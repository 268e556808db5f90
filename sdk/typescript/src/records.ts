import type { AuditReceipt, Decision, Execution, Feedback, FeedbackRequest } from "./api-types.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";

/** GET /v1/executions/{id}: what was stored for one request (or one asynchronous task, under its id). */
export class Executions {
  constructor(private readonly http: Http) {}

  get(id: string, options?: CallOptions): Promise<Execution> {
    return this.http.json(ROUTES.getExecution, { params: { id }, options });
  }

  /**
   * The execution's audit receipt (its leaf with its inclusion proof), with the scopes that read the execution: no
   * `audit:read` needed. In the latest signed tree, or in the tree of `treeSize` (that of a checkpoint you hold);
   * verify it offline with verifyReceipt(). AtomicError `audit_event_pending` (404) while not yet sequenced.
   */
  receipt(id: string, options: CallOptions & { treeSize?: number } = {}): Promise<AuditReceipt> {
    return this.http.json(ROUTES.getExecutionReceipt, { params: { id }, query: { tree_size: options.treeSize }, options });
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
 * GET /v1/decisions/{id}: the bidding decision the `x-atomic-decision-id` header names, stored under an execution's
 * or an asynchronous task's id (a running task's too, with the `tasks` scope), without the execution's content.
 */
export class Decisions {
  constructor(private readonly http: Http) {}

  /** The decision; AtomicError `decision_not_found` (404) for an unknown id or where the caller named the model. */
  get(id: string, options?: CallOptions): Promise<Decision> {
    return this.http.json(ROUTES.getDecision, { params: { id }, options });
  }
}
