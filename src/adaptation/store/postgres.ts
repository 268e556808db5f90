import type { Pool } from "pg";
import { inTransaction } from "../../store/postgres/transaction.js";
import { AdaptationStateConflictError, type AdaptationSnapshot, type AdaptationStateStore } from "./interface.js";

const UNIQUE_VIOLATION = "23505";
/** Versions kept besides the latest, for inspection; older ones are deleted on save. */
const KEPT_VERSIONS = 5;

export class PostgresAdaptationStateStore implements AdaptationStateStore {
  constructor(private readonly pool: Pool) {}

  async load(learner: string): Promise<AdaptationSnapshot | null> {
    const result = await this.pool.query<{ version: string; state: unknown; frozen: boolean; saved_at: Date }>(
      "SELECT version, state, frozen, saved_at FROM adaptation_learner_state WHERE learner = $1 ORDER BY version DESC LIMIT 1",
      [learner],
    );
    const row = result.rows[0];
    return row === undefined ? null : { version: Number(row.version), state: row.state, frozen: row.frozen, savedAt: row.saved_at };
  }

  save(learner: string, expectedVersion: number, state: unknown, frozen: boolean): Promise<number> {
    const version = expectedVersion + 1;
    return inTransaction(this.pool, async (client) => {
      const latest = await client.query<{ version: string | null }>("SELECT max(version) AS version FROM adaptation_learner_state WHERE learner = $1", [learner]);
      if (Number(latest.rows[0]?.version ?? 0) !== expectedVersion) throw new AdaptationStateConflictError(learner, version);
      try {
        await client.query("INSERT INTO adaptation_learner_state (learner, version, state, frozen) VALUES ($1, $2, $3::json, $4)", [learner, version, JSON.stringify(state), frozen]);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new AdaptationStateConflictError(learner, version);
        throw error;
      }
      await client.query("DELETE FROM adaptation_learner_state WHERE learner = $1 AND version <= $2", [learner, version - 1 - KEPT_VERSIONS]);
      return version;
    });
  }
}
