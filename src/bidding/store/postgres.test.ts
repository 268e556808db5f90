import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.js";
import { createPool } from "../../store/postgres/database.js";
import { migrate } from "../../store/postgres/migrate.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { LearnerStateConflictError, UnknownExecutionError } from "../errors.js";
import type { BiddingRequest, Candidate } from "../request.js";
import type { OutcomeRecord } from "./interface.js";
import { BiddingRouter } from "../router.js";
import { readFileSync } from "node:fs";
import { MemoryBiddingStore } from "./memory.js";
import { PostgresBiddingStore } from "./postgres.js";

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

function candidate(id: string, per1k: number): Candidate {
  return {
    id, cost: { unit: "compute-seconds", per1kPromptTokens: per1k, per1kCompletionTokens: 3 * per1k }, contextLength: 8192,
    parallel: 2, strength: per1k, state: "ready", inFlight: 0, queued: 0,
  };
}

const CANDIDATES = [candidate("cheap", 0.05), candidate("mid", 0.3), candidate("strong", 1)];
const REQUESTS: BiddingRequest[] = [
  { kind: "task", text: "Extract the invoice number from: INV-2291", instructions: "Extract fields" },
  { kind: "chat", text: "Summarize this: the meeting moved to Tuesday because the room was booked." },
  { kind: "chat", text: "Wie spät ist es in Zürich, wenn es in Tokio Mittag ist?" },
];

/** Routes and learns `count` executions; the cheap model fails every other one. */
async function train(router: BiddingRouter, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const executionId = uuidv7();
    ids.push(executionId);
    const decision = await router.route({ executionId, request: REQUESTS[i % REQUESTS.length]!, candidates: CANDIDATES });
    await router.recordOutcome({
      executionId, modelId: decision.modelId, promptTokens: 40, completionTokens: 20, queueMs: 1, inferenceMs: 300 + i,
      schemaValid: decision.modelId !== "cheap" || i % 2 === 0,
    });
  }
  return ids;
}

/** A new router on a new pool: what a restarted gateway would build. */
async function restarted(learner: string): Promise<{ router: BiddingRouter; close: () => Promise<void> }> {
  const ownPool = createPool(database.url);
  const router = await BiddingRouter.open({ store: new PostgresBiddingStore(ownPool), learner });
  return { router, close: () => ownPool.end() };
}

function decide(router: BiddingRouter) {
  const decision = router.decide({ executionId: "probe", request: REQUESTS[0]!, candidates: CANDIDATES });
  return decision.record.microtasks[0]!.bids;
}

describe("bidding on PostgreSQL", () => {
  it("resumes learned state after a restart", async () => {
    const router = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "restart", saveEvery: 10 });
    await train(router, 45);
    await router.checkpoint();
    const learned = router.exportState();
    expect(Object.keys(router.state().models).length).toBeGreaterThan(0);

    const { router: again, close } = await restarted("restart");
    try {
      expect(again.exportState()).toEqual(learned);
      expect(again.state()).toMatchObject({ version: router.state().version, frozen: false, epoch: 0, discardedSavedState: false });
      // The restored learner holds the same posterior, so its predictions agree to rounding (its choices differ only
      // by the posterior draws, whose random source is the process's own).
      const [restoredBids, originalBids] = [decide(again), decide(router)];
      for (const [i, bid] of restoredBids.entries()) {
        const original = originalBids[i]!;
        expect(bid.model).toBe(original.model);
        expect(bid.confidence).toBeCloseTo(original.confidence, 12);
        expect(bid.confidenceUpper).toBeCloseTo(original.confidenceUpper, 12);
        expect(bid.latencyMs).toBeCloseTo(original.latencyMs, 9);
        expect(bid.observations).toBe(original.observations);
      }
    } finally {
      await close();
    }
  });

  it("saves every saveEvery learned outcomes without being asked", async () => {
    const router = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "autosave", saveEvery: 5 });
    await train(router, 12);
    expect(router.state()).toMatchObject({ version: 2, unsavedUpdates: 2 });
  });

  it("forgets everything on reset, for this process and the next", async () => {
    const router = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "reset" });
    const before = await train(router, 20);
    await router.reset();
    expect(router.state()).toMatchObject({ epoch: 1, models: {} });

    const { router: again, close } = await restarted("reset");
    try {
      expect(again.state()).toMatchObject({ epoch: 1, models: {}, version: router.state().version });
      expect(again.exportState()).toEqual(router.exportState());
      // Feedback on an execution from before the reset is stored but does not bring back what was forgotten.
      expect(await again.recordFeedback({ executionId: before[0]!, score: 0 })).toMatchObject({ outcomes: 1, learned: 0 });
      expect(again.state().models).toEqual({});
    } finally {
      await close();
    }
  });

  it("keeps a frozen state unchanged by outcomes and feedback, across a restart", async () => {
    const router = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "frozen", saveEvery: 1 });
    await train(router, 10);
    await router.freeze();
    const frozen = router.exportState();
    const ids = await train(router, 10);
    await router.recordFeedback({ executionId: ids[0]!, score: 0 });
    await router.checkpoint(true);
    expect(router.exportState()).toEqual(frozen);

    const { router: again, close } = await restarted("frozen");
    try {
      expect(again.state().frozen).toBe(true);
      expect(again.exportState()).toEqual(frozen);
      await train(again, 5);
      expect(again.exportState()).toEqual(frozen);
    } finally {
      await close();
    }
  });

  it("stores decision records by execution id and knows which executions it saw", async () => {
    const store = new PostgresBiddingStore(pool);
    const router = new BiddingRouter({ store, learner: "records" });
    const executionId = uuidv7();
    const decision = await router.route({ executionId, request: REQUESTS[1]!, candidates: CANDIDATES });

    expect(await store.getDecision(executionId)).toEqual(decision.record);
    expect(await router.getDecision(executionId)).toEqual(decision.record);
    expect(await store.hasExecution(executionId)).toBe(true);
    expect(await store.hasExecution(uuidv7())).toBe(false);
    expect(await store.hasExecution("not-a-uuid")).toBe(false);
    expect(await store.getDecision("not-a-uuid")).toBeNull();
  });

  it("stores decisions made together in one batch, each exactly, and the later of two for one execution", async () => {
    const store = new PostgresBiddingStore(pool);
    const router = new BiddingRouter({ store, learner: "records-batch" });
    const executions = Array.from({ length: 25 }, () => uuidv7());
    const decisions = await Promise.all(executions.map((executionId, i) => router.route({ executionId, request: REQUESTS[i % REQUESTS.length]!, candidates: CANDIDATES })));
    for (const decision of decisions) expect(await store.getDecision(decision.executionId)).toEqual(decision.record);
    const choices = await pool.query("SELECT count(*)::int AS n FROM bidding_choices WHERE execution_id = ANY($1::uuid[])", [executions]);
    expect(choices.rows[0].n).toBe(decisions.reduce((n, d) => n + d.record.microtasks.filter((m) => m.choice !== null).length, 0));
    // One execution decided twice in the same moment: the statement may not upsert a row twice, so each record is
    // saved alone, in order, and the later one stands.
    const first = decisions[0]!.record;
    const later = { ...first, createdAt: new Date(Date.parse(first.createdAt) + 1000).toISOString() };
    await Promise.all([store.saveDecision(first), store.saveDecision(later)]);
    expect(await store.getDecision(first.executionId)).toEqual(later);
  });

  it("stores feedback, revises the outcome's reward, and refuses feedback for an unknown execution", async () => {
    const store = new PostgresBiddingStore(pool);
    const router = new BiddingRouter({ store, learner: "feedback" });
    const [executionId] = await train(router, 1);

    const unknown = uuidv7();
    await expect(router.recordFeedback({ executionId: unknown, score: 1 })).rejects.toBeInstanceOf(UnknownExecutionError);
    await expect(router.recordFeedback({ executionId: "nope", score: 1 })).rejects.toBeInstanceOf(UnknownExecutionError);
    expect(await store.listFeedback(unknown)).toEqual([]);

    await router.recordFeedback({ executionId: executionId!, score: 0.5, tenant: "acme", comment: "half right" });
    const [outcome] = await store.getOutcomes(executionId!);
    const expected = 0.5 * outcome!.automaticReward!;
    expect(outcome).toMatchObject({ reward: expect.closeTo(expected, 12), learnedReward: expect.closeTo(expected, 12), learnerEpoch: 0 });
    expect(await store.listFeedback(executionId!)).toMatchObject([{ executionId, score: 0.5, tenant: "acme", comment: "half right" }]);
    expect((await store.listFeedback(executionId!))[0]!.createdAt).toBeInstanceOf(Date);
  });

  it("applies concurrent feedback for one execution one after the other", async () => {
    const store = new PostgresBiddingStore(pool);
    const router = new BiddingRouter({ store, learner: "concurrent" });
    const [executionId] = await train(router, 1);
    const scores = [0, 0.25, 0.5, 0.75, 1];
    await Promise.all(scores.map((score) => router.recordFeedback({ executionId: executionId!, score })));

    const rows = await store.listFeedback(executionId!);
    expect(rows.map((r) => r.score).sort()).toEqual(scores);
    const [outcome] = await store.getOutcomes(executionId!);
    // Whichever came last counts, and the learner holds exactly what the row says.
    const last = rows.at(-1)!.score;
    expect(outcome!.reward).toBeCloseTo(last * outcome!.automaticReward!, 12);
    expect(outcome!.learnedReward).toBe(outcome!.reward);
  });

  it("counts feedback given before the outcome arrived", async () => {
    const store = new PostgresBiddingStore(pool);
    const router = new BiddingRouter({ store, learner: "early" });
    const executionId = uuidv7();
    const decision = await router.route({ executionId, request: REQUESTS[0]!, candidates: CANDIDATES });
    await router.recordFeedback({ executionId, score: 0.4 });
    const outcome = await router.recordOutcome({ executionId, modelId: decision.modelId, promptTokens: 5, completionTokens: 5, queueMs: 0, inferenceMs: 10 });
    expect(outcome.reward).toBeCloseTo(0.4, 12);
    expect((await store.getOutcomes(executionId))[0]!.learnedReward).toBeCloseTo(0.4, 12);
  });

  it("refuses to overwrite state another process saved, and keeps a bounded history of versions", async () => {
    const first = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "shared" });
    const second = await BiddingRouter.open({ store: new PostgresBiddingStore(pool), learner: "shared" });
    await first.checkpoint(true);
    await expect(second.checkpoint(true)).rejects.toBeInstanceOf(LearnerStateConflictError);
    await second.load();
    await second.checkpoint(true);
    expect(second.state().version).toBe(2);

    for (let i = 0; i < 30; i++) await second.checkpoint(true);
    const kept = await pool.query<{ count: string; oldest: string }>(
      "SELECT count(*) AS count, min(version) AS oldest FROM bidding_learner_state WHERE learner = 'shared'",
    );
    expect(Number(kept.rows[0]!.count)).toBe(21);
    expect(Number(kept.rows[0]!.oldest)).toBe(32 - 20);
  });

  it("keeps each decision's choices in numbers, as migration 0016 derives them, and aggregates them as the memory store does", async () => {
    // A database of its own: the history reads every decision of its window.
    const own = await createTestDatabase();
    const ownPool = createPool(own.url);
    try {
      await migrate(ownPool);
      const store = new PostgresBiddingStore(ownPool);
      const memory = new MemoryBiddingStore();
      const since = new Date();
      const ids: string[] = [];
      for (const [i, storeOf] of [store, memory].entries()) {
        let at = since;
        const router = new BiddingRouter({ store: storeOf, learner: `history-${i}`, now: () => at });
        for (let k = 0; k < 9; k++) {
          at = new Date(since.getTime() + 1000 + k * 60_000);
          const executionId = i === 0 ? uuidv7() : ids[k]!;
          if (i === 0) ids.push(executionId);
          const decision = await router.route({ executionId, request: REQUESTS[k % REQUESTS.length]!, candidates: CANDIDATES });
          await router.recordOutcome({ executionId, modelId: decision.modelId, promptTokens: 40, completionTokens: 20, queueMs: 1, inferenceMs: 300, schemaValid: true });
          if (k % 3 === 0) await router.recordFeedback({ executionId, score: k / 10, tenant: null });
        }
      }
      const saved = await ownPool.query("SELECT * FROM bidding_choices ORDER BY execution_id, microtask_id");
      expect(saved.rows).toHaveLength(9);
      // The migration's own derivation, run again over the stored records, gives the rows saveDecision wrote.
      const migration = readFileSync(new URL("../../store/postgres/migrations/0016_bidding_choices.sql", import.meta.url), "utf8");
      await ownPool.query("DELETE FROM bidding_choices");
      await ownPool.query(migration.slice(migration.indexOf("INSERT INTO bidding_choices"), migration.indexOf("CREATE INDEX")));
      expect((await ownPool.query("SELECT * FROM bidding_choices ORDER BY execution_id, microtask_id")).rows).toEqual(saved.rows);

      const query = { since, until: new Date(since.getTime() + 10 * 60_000), buckets: 5 };
      const fromPostgres = await store.history(query);
      expect(fromPostgres.totals.decisions).toBe(9);
      expect(fromPostgres.totals.feedback).toEqual({ mean: expect.closeTo((0 + 0.3 + 0.6) / 3, 10), count: 3 });
      expect(fromPostgres.buckets.map((b) => b.decisions)).toEqual([2, 2, 2, 2, 1]);
      // No executions were stored: the task class is the decision's task type, "unrecorded", in both stores.
      expect(fromPostgres.beliefs.every((b) => b.taskClass.startsWith("unrecorded:"))).toBe(true);
      const fromMemory = await memory.history(query);
      const rounded = (value: unknown) => JSON.parse(JSON.stringify(value, (_key, v) => (typeof v === "number" ? Math.round(v * 1e9) / 1e9 : v)));
      expect(rounded(fromMemory)).toEqual(rounded(fromPostgres));
      expect((await store.history({ ...query, tenant: "ward-1" })).totals.decisions).toBe(0);
    } finally {
      await ownPool.end();
      await own.drop();
    }
  });

  it("saves outcomes arriving together in one batch, each exactly, with its execution's latest feedback score", async () => {
    const store = new PostgresBiddingStore(pool);
    const outcome = (executionId: string, microtaskId: string, reward: number): OutcomeRecord => ({
      executionId, microtaskId, modelId: "small", taskType: "chat", contextKey: "chat:short",
      features: { featureVersion: 2, contentLayout: "hashed-ngrams/1", vector: [1, 0.5, -2.25], indices: [3, 77], values: [0.5, -0.125] },
      promptTokens: 12, completionTokens: 3, queueMs: 0.5, inferenceMs: 41.25, expectedLatencyMs: null, errorCode: null,
      schemaValid: null, automaticReward: reward, reward, learnedReward: null, learnerEpoch: 0, createdAt: new Date("2026-12-07T01:02:03.456Z"),
    });
    const rated = uuidv7();
    await pool.query("INSERT INTO bidding_feedback (execution_id, score) VALUES ($1, 0.25), ($1, 0.75)", [rated]);
    const executions = [rated, ...Array.from({ length: 30 }, () => uuidv7())];
    const saved = await Promise.all(executions.map((id, i) => store.saveOutcome(outcome(id, "m0", i / 40))));
    expect(saved.map((s) => s.feedbackScore)).toEqual([0.75, ...executions.slice(1).map(() => null)]);
    for (const [i, id] of executions.entries()) expect(await store.getOutcomes(id)).toEqual([outcome(id, "m0", i / 40)]);
    // Two outcomes of one microtask in one batch: the statement may not upsert a row twice, so each is saved alone,
    // in order, and the later one stands.
    const twice = uuidv7();
    await Promise.all([store.saveOutcome(outcome(twice, "m0", 0.1)), store.saveOutcome(outcome(twice, "m0", 0.9))]);
    expect(await store.getOutcomes(twice)).toEqual([outcome(twice, "m0", 0.9)]);
  });

});
