/** Where the feedback integrator keeps what was learned: versioned snapshots, like the bidding learner's. */
export interface AdaptationSnapshot {
  version: number;
  state: unknown;
  frozen: boolean;
  savedAt: Date;
}

export interface AdaptationStateStore {
  load(learner: string): Promise<AdaptationSnapshot | null>;
  /** Saves as version expectedVersion + 1 and returns it; throws AdaptationStateConflictError when that exists. */
  save(learner: string, expectedVersion: number, state: unknown, frozen: boolean): Promise<number>;
}

/** Another process saved the learner since this one loaded it. */
export class AdaptationStateConflictError extends Error {
  override readonly name = "AdaptationStateConflictError";
  constructor(readonly learner: string, readonly version: number) {
    super(`adaptation learner ${learner}: version ${version} was saved by another process`);
  }
}
