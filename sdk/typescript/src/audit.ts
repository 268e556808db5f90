import type { AuditReceipt } from "./api-types.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";

/**
 * The audit log's signed checkpoints and any event's receipt (scope `audit:read`, every tenant's log); verify them
 * offline with verifyReceipt(). An application proving its own execution needs only `executions.receipt(id)`.
 */
export class Audit {
  constructor(private readonly http: Http) {}

  /** The latest signed checkpoint, as the signed note's text (audit/FORMAT.md §4). */
  checkpoint(options?: CallOptions): Promise<string> {
    return this.http.text(ROUTES.getAuditCheckpoint, { options });
  }

  /**
   * An event's leaf with its inclusion proof: in the latest signed tree, or in the tree of `treeSize` (that of a
   * checkpoint you hold). AtomicError `audit_event_pending` (404) while the event is not yet sequenced.
   */
  receipt(eventId: string, options: CallOptions & { treeSize?: number } = {}): Promise<AuditReceipt> {
    return this.http.json(ROUTES.getAuditReceipt, { params: { eventId }, query: { tree_size: options.treeSize }, options });
  }
}
