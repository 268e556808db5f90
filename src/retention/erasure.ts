import type { AuditEvent } from "../audit/core/entry.js";
import { systemEvent } from "../audit/events.js";
import type { ContentCounts, ContentErasureStore, ContentSelector, ErasedBatch } from "../store/interface.js";
import { uuidv7 } from "../util/uuidv7.js";

/** Why content is erased: someone asked (the admin route, `atomic erase`), or its tenant's retention ran out. */
export type ErasureTrigger = "request" | "retention";

export interface Erasure {
  selector: ContentSelector;
  trigger: ErasureTrigger;
  /** Who erases: the caller of the admin route, the operator at the console, or the retention job. */
  actor: NonNullable<AuditEvent["actor"]>;
  /** The HTTP request that asked for it, when one did. */
  request?: NonNullable<AuditEvent["request"]>;
  /** The tenant's retention, for a retention pass. */
  retentionDays?: number;
}

export interface ErasureResult extends ContentCounts {
  /** Shared by every batch's audit event (detail.erasure), so an auditor sees one erasure across its batches. */
  erasureId: string;
  batches: number;
  auditEventIds: string[];
}

export interface EraseOptions {
  /**
   * Skip rows another transaction holds instead of waiting for them: what a retention pass does, since the next
   * pass takes what it left. An erasure someone asked for waits, so that nothing matching is left behind.
   */
  skipLocked?: boolean;
  /** Asked between batches; true stops the erasure there (a gateway shutting down). What was erased stays erased. */
  shouldStop?: () => boolean;
}

/**
 * Erases execution content in bounded batches, each one transaction with its own `content.erased` audit event
 * (see ContentErasureStore.eraseBatch), until nothing matching is left. Idempotent: erased content no longer
 * matches, so running the same erasure again (after a failure half-way, or on another gateway at once) erases
 * only what is still there.
 */
export class ContentEraser {
  constructor(private readonly store: ContentErasureStore, private readonly batchSize: number) {}

  /** What `erase` would take now (a dry run); changes nothing and records nothing. */
  count(selector: ContentSelector): Promise<ContentCounts> {
    return this.store.count(selector);
  }

  async erase(erasure: Erasure, options: EraseOptions = {}): Promise<ErasureResult> {
    const result: ErasureResult = { erasureId: uuidv7(), executions: 0, feedbackComments: 0, batches: 0, auditEventIds: [] };
    for (;;) {
      const batchNumber = result.batches + 1;
      // A request that finds nothing is still on the record (someone asked); a retention pass that finds nothing is
      // not, or every pass would grow the log.
      const recordEmpty = erasure.trigger === "request" && batchNumber === 1;
      const batch = await this.store.eraseBatch(
        erasure.selector,
        { limit: this.batchSize, skipLocked: options.skipLocked ?? false },
        (erased) => (erased.executionIds.length > 0 || recordEmpty ? erasureEvent(erasure, result.erasureId, batchNumber, erased) : null),
      );
      if (batch.event !== null) {
        result.batches = batchNumber;
        result.auditEventIds.push(batch.event.id);
      }
      result.executions += batch.executionIds.length;
      result.feedbackComments += batch.feedbackComments;
      // A short batch took everything that matched (rows erased meanwhile by someone else are passed over, not
      // counted against the limit); with skipLocked, what it skipped is left to the next pass.
      if (batch.executionIds.length < this.batchSize || options.shouldStop?.()) return result;
    }
  }
}

/** The audit record of one batch: which executions lost their content, why and at whose request; never the content. */
function erasureEvent(erasure: Erasure, erasureId: string, batch: number, erased: ErasedBatch): AuditEvent {
  const { tenant, subject, executionId, before } = erasure.selector;
  return systemEvent("content.erased", {
    actor: erasure.actor,
    ...(erasure.request === undefined ? {} : { request: erasure.request }),
    outcome: { status: "succeeded" },
    detail: {
      erasure: erasureId,
      trigger: erasure.trigger,
      tenant,
      selectors: {
        ...(subject === undefined ? {} : { subject }),
        ...(executionId === undefined ? {} : { executionId }),
        ...(before === undefined ? {} : { before: before.toISOString() }),
      },
      ...(erasure.retentionDays === undefined ? {} : { retentionDays: erasure.retentionDays }),
      batch,
      count: erased.executionIds.length,
      executions: erased.executionIds,
      feedbackComments: erased.feedbackComments,
    },
  });
}
