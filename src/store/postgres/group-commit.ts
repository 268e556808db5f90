/**
 * Group commit: concurrent writers share one statement and one commit. While a write is in flight, new items wait;
 * when it finishes they all go out together. An idle system writes at the end of the current event-loop turn (a
 * few microseconds later), so that every item submitted in that turn goes in the same write: started at the first
 * submit, a write carried one item and the next one the other fifteen, halving the batch under a steady load. A busy
 * system pays one commit per batch instead of one per item, which on a small machine is the difference between a
 * few thousand and tens of thousands of durable writes per second. Every caller resolves only after the commit
 * that holds its item, so durability is exactly that of writing alone.
 */
export class GroupCommit<T> {
  private pending: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing = false;
  /** Set while the next write waits for company (deferrable items only). */
  private gathering: NodeJS.Timeout | undefined;

  /**
   * `gatherMs`: how long an idle system lets deferrable items (whose callers answer nobody while they wait: the
   * learner's outcomes after a request was answered) wait for company before it writes, so that a lightly loaded
   * gateway does not pay a statement and a commit for each. An item somebody waits on ends the wait. One write in
   * flight at a time: on the 2-vCPU machines measured, two or three in flight were 20-25% slower.
   */
  constructor(private readonly write: (items: T[]) => Promise<void>, private readonly maxBatch = 500, private readonly gatherMs = 0) {}

  submit(item: T, deferrable = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        if (deferrable && this.gatherMs > 0) this.gathering = setTimeout(() => void this.flush(), this.gatherMs);
        else setImmediate(() => void this.flush());
      } else if (!deferrable && this.gathering !== undefined) {
        clearTimeout(this.gathering);
        this.gathering = undefined;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.gathering = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.write(batch.map((entry) => entry.item));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        // One bad item must not fail its neighbours: each is written alone and gets its own outcome.
        for (const entry of batch) await this.write([entry.item]).then(entry.resolve, entry.reject);
      }
    }
    this.flushing = false;
  }
}
