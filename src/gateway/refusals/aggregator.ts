import type { AuditEvent } from "../../audit/core/entry.js";
import type { Refusal } from "../middleware/auth/index.js";
import { refusalEvent, type RefusalTally } from "./event.js";

export interface RefusalAggregatorOptions {
  /** Length of one window: repeats within it are counted, and written as one event when it ends. */
  windowMs: number;
  /** Sources tracked per window; refusals of further sources are counted per code and route only. */
  maxSources: number;
  record(event: AuditEvent): Promise<void>;
}

interface Tally extends RefusalTally {
  /** The latest refusal counted: its request id names the event, the rest is the same for the whole tally. */
  last: Refusal;
}

/**
 * Keeps an unauthenticated flood from growing the append-only audit log without bound. The first refusal of a
 * source (address, status, code, route pattern and, when known, credential) in a window is recorded at once; the
 * repeats are counted and written as one `request.refused` with `count` when the window ends or on close(), so a
 * clean shutdown loses none. Memory is bounded: past `maxSources` sources in one window, refusals of new ones are
 * counted per code and route without their address, and written the same way.
 *
 * 401s (no caller to hold to account), 404s for what the caller's tenant does not hold (ids guessed or mistyped, in
 * bulk as easily as once) and 429s (a caller already flooding) are aggregated. A 403 is a
 * decision about an identified caller's request (missing scope, policy denial) and each one stays on the record;
 * a caller that floods 403s runs into its tenant's rate limit, and its refusals become 429s.
 */
export class RefusalAggregator {
  private sources = new Map<string, Tally | null>();
  private overflow = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RefusalAggregatorOptions) {
    this.timer = setInterval(() => void this.flush(), options.windowMs);
    this.timer.unref();
  }

  async refused(refusal: Refusal): Promise<void> {
    if (refusal.status === 403) return this.options.record(refusalEvent(refusal));
    const key = sourceKey(refusal);
    if (this.sources.has(key)) return count(this.sources, key, refusal);
    if (this.sources.size >= this.options.maxSources) return count(this.overflow, `${refusal.status} ${refusal.code} ${refusal.route}`, anonymous(refusal));
    // Seen, nothing counted yet: a source refused once per window costs one event and no tally.
    this.sources.set(key, null);
    return this.options.record(refusalEvent(refusal));
  }

  /** Writes what the window counted and starts the next one. */
  async flush(): Promise<void> {
    const tallies = [...this.sources.values(), ...this.overflow.values()].filter((tally) => tally !== null);
    this.sources = new Map();
    this.overflow = new Map();
    for (const tally of tallies) await this.options.record(refusalEvent(tally.last, tally));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

function count(tallies: Map<string, Tally | null>, key: string, refusal: Refusal): void {
  const now = new Date();
  const tally = tallies.get(key);
  if (tally) {
    tally.count++;
    tally.to = now;
    tally.last = refusal;
  } else {
    tallies.set(key, { count: 1, from: now, to: now, last: refusal });
  }
}

function sourceKey(refusal: Refusal): string {
  return JSON.stringify([refusal.sourceAddress ?? "", refusal.status, refusal.code, refusal.route, refusal.principal?.tokenIdHash ?? ""]);
}

/** A refusal counted without its source: the tally stands for many. */
function anonymous(refusal: Refusal): Refusal {
  const { sourceAddress: _source, principal: _principal, ...rest } = refusal;
  return rest;
}
