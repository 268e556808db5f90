/**
 * For what a process reads again from its database now and then, after changes other processes of the site made
 * (tenant settings, operators' model choices, policy reloads): its writes and refreshes run one at a time, a
 * refresh comes every interval after the previous one ended, and a stop waits for the one in progress, before the
 * database can go.
 */
export class SerialRefresher {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `refresh` is the owner's own refresh, which runs its work through serially() and handles its errors. */
  constructor(private readonly refresh: () => Promise<void>) {}

  /** Runs `work` after whatever runs now; a failure is its caller's, and the next work runs all the same. */
  serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Refreshes every `intervalMs`, each time that long after the previous refresh ended, until stop(). */
  every(intervalMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh().then(() => this.every(intervalMs)), intervalMs);
    // A pending refresh never keeps a process alive that is otherwise done.
    this.timer.unref();
  }

  /** No refresh starts any more; one in progress, or a write, ends first. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.queue;
  }
}
