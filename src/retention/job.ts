import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import type { ContentErasureStore } from "../store/interface.js";
import type { ContentEraser } from "./erasure.js";
import { retentionCutoff, retentionDays, tenantsUnderRetention } from "./policy.js";

/** The first pass waits this long after start: a gateway starting up has its models to load first. */
const FIRST_PASS_DELAY_MS = 10_000;

/** Who erases content past its retention, as the audit log names it. */
export const RETENTION_ACTOR = "atomic-retention";

export interface RetentionJobOptions {
  config: Config["retention"];
  /** The retention in force at each pass (tenant settings over the file's); default: `config` as it is. */
  current?: () => Config["retention"];
  eraser: ContentEraser;
  store: Pick<ContentErasureStore, "tenantsWithContent">;
  logger: Logger;
  /** The clock cut-offs are computed from; tests set it instead of ageing rows. */
  now?: () => Date;
}

/** What one pass erased, per tenant it looked at. */
export interface RetentionPass {
  tenants: Array<{ tenant: string; days: number; before: Date; executions: number; feedbackComments: number; batches: number }>;
}

/**
 * Erases execution content past its tenant's retention (retention.days), on a timer inside every gateway.
 *
 * A timer rather than a Temporal schedule: retention must hold whether or not orchestration is on (temporal.enabled
 * may be false, and Temporal may be down while the database is up), and a pass needs nothing durable between
 * batches — each batch is one transaction with its audit event, and a pass that dies is simply done by the next.
 * Several gateways on one database run passes at once safely: a batch locks its rows with SKIP LOCKED, so two
 * passes erase disjoint rows and each erased row is recorded once.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private readonly now: () => Date;

  constructor(private readonly options: RetentionJobOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Schedules passes: the first shortly after start, then one every retention.intervalMs after the last ended. */
  start(): void {
    this.schedule(Math.min(FIRST_PASS_DELAY_MS, this.options.config.intervalMs));
  }

  /** One pass now, after any pass in progress (passes never overlap within a gateway). */
  runOnce(): Promise<RetentionPass> {
    const pass = this.current.then(() => this.pass());
    this.current = pass.catch(() => undefined);
    return pass;
  }

  /** No new pass starts; one in progress stops after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.runOnce().then(
        () => this.schedule(this.options.config.intervalMs),
        (error: unknown) => {
          this.options.logger.warn({ err: error }, "retention: the pass failed; the next one takes over");
          this.schedule(this.options.config.intervalMs);
        },
      );
    }, delayMs);
    // A pending pass never keeps a process alive that is otherwise done.
    this.timer.unref();
  }

  private async pass(): Promise<RetentionPass> {
    const { eraser, store, logger } = this.options;
    const config = this.options.current?.() ?? this.options.config;
    const now = this.now();
    const done: RetentionPass = { tenants: [] };
    for (const tenant of await tenantsUnderRetention(config, () => store.tenantsWithContent())) {
      if (this.stopping) break;
      const days = retentionDays(config, tenant)!;
      const before = retentionCutoff(days, now);
      const result = await eraser.erase(
        { selector: { tenant, before }, trigger: "retention", actor: { subject: RETENTION_ACTOR }, retentionDays: days },
        { skipLocked: true, shouldStop: () => this.stopping },
      );
      done.tenants.push({ tenant, days, before, executions: result.executions, feedbackComments: result.feedbackComments, batches: result.batches });
      if (result.executions > 0) {
        logger.info({ tenant, days, before: before.toISOString(), executions: result.executions, feedbackComments: result.feedbackComments, erasure: result.erasureId }, "retention: erased content past its age");
      }
    }
    return done;
  }
}
