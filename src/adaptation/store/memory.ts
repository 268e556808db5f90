import { AdaptationStateConflictError, type AdaptationSnapshot, type AdaptationStateStore } from "./interface.js";

/** For tests and the benchmark's in-process parts: the same versioning, nothing kept past the process. */
export class MemoryAdaptationStateStore implements AdaptationStateStore {
  private readonly snapshots = new Map<string, AdaptationSnapshot>();

  async load(learner: string): Promise<AdaptationSnapshot | null> {
    return this.snapshots.get(learner) ?? null;
  }

  async save(learner: string, expectedVersion: number, state: unknown, frozen: boolean): Promise<number> {
    const current = this.snapshots.get(learner)?.version ?? 0;
    if (current !== expectedVersion) throw new AdaptationStateConflictError(learner, expectedVersion + 1);
    const version = expectedVersion + 1;
    this.snapshots.set(learner, { version, state: JSON.parse(JSON.stringify(state)), frozen, savedAt: new Date() });
    return version;
  }
}
