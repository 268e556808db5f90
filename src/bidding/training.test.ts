import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Candidate } from "./request.js";
import { BiddingRouter } from "./router.js";
import { LinUcbPolicy } from "./selection/linucb.js";
import { MemoryBiddingStore } from "./store/memory.js";
import { OutcomeTableError, parseOutcomeTable, trainFromTable } from "./training.js";
import { HashedNgramFeaturizer } from "./content/hashed.js";
import { LogisticThompsonPolicy } from "./selection/logistic.js";
import { seededRng } from "../util/rng.js";

function candidate(id: string, per1k: number): Candidate {
  return { id, cost: { unit: "u", per1kPromptTokens: per1k, per1kCompletionTokens: per1k }, contextLength: 8192, parallel: 1, strength: per1k, state: "ready", inFlight: 0, queued: 0 };
}
const CANDIDATES = [candidate("cheap", 0.01), candidate("strong", 1)];

/** Cheap is right on geography and wrong on proofs; strong is right on both. */
function table(rows: number): string {
  const lines = ["prompt,model,score,latency_ms,input_tokens,output_tokens"];
  for (let i = 0; i < rows; i++) {
    const proof = i % 2 === 0;
    const prompt = proof ? `"Prove that ${i} + ${i + 2}, two even numbers, sum to an even number"` : `"What is the capital city of country number ${i}?"`;
    lines.push(`${prompt},cheap,${proof ? 0 : 1},100,20,5`, `${prompt},strong,1,900,20,5`);
  }
  return lines.join("\n");
}

describe("training from an outcome table", () => {
  it("pre-trains the learner, saves it as the next version, and reports the table's digest, not its content", async () => {
    const store = new MemoryBiddingStore();
    // Training matters most for a learner that reads content: the experimental one, on hashed n-grams.
    const featurizer = new HashedNgramFeaturizer();
    const router = await BiddingRouter.open({ store, featurizer, policy: new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(1) }) });
    const text = table(300);
    const summary = await trainFromTable(router, text);
    expect(summary).toEqual({ sha256: createHash("sha256").update(text).digest("hex"), rows: 600, learned: 600, version: 1, models: { cheap: 300, strong: 300 } });
    expect((await store.loadLearner("default"))?.version).toBe(1);

    // Warm: a proof goes to the strong model and a capital question to the cheap one from the first request.
    const route = (text: string) => router.decide({ executionId: text, request: { kind: "task", text }, candidates: CANDIDATES }).modelId;
    expect(route("Prove that 1000 + 1002, two even numbers, sum to an even number")).toBe("strong");
    expect(route("What is the capital city of country number 5000?")).toBe("cheap");
    // The record says why, in the request's own words.
    const record = router.decide({ executionId: "why", request: { kind: "task", text: "Prove that 8 + 10 is even" }, candidates: CANDIDATES }).record;
    const explained = record.microtasks[0]!.choice!.explanation!;
    expect(explained.flatMap((e) => (e.terms ?? []).map((t) => t.text))).toContain("prove that");
  });

  it("reads JSONL with success instead of score, and refuses a malformed table", () => {
    expect(parseOutcomeTable('{"prompt":"hi","model":"m","success":true}\n{"text":"yo","model":"n","success":0}\n')).toEqual([
      { prompt: "hi", model: "m", score: 1 }, { prompt: "yo", model: "n", score: 0 },
    ]);
    expect(() => parseOutcomeTable("prompt,model,score\nhi,m,2\n")).toThrow(OutcomeTableError);
    expect(() => parseOutcomeTable("prompt,model\nhi,m\n")).toThrow(/score must be/);
    expect(() => parseOutcomeTable('{"prompt":"hi"}\n')).toThrow(/prompt and model/);
  });

  it("reads success flags as pandas writes them to CSV, and refuses one it cannot read", () => {
    expect(parseOutcomeTable("prompt,model,success\nhi,m,True\nyo,m,False\nsup,n, TRUE \n")).toEqual([
      { prompt: "hi", model: "m", score: 1 }, { prompt: "yo", model: "m", score: 0 }, { prompt: "sup", model: "n", score: 1 },
    ]);
    expect(() => parseOutcomeTable("prompt,model,success\nhi,m,yes\n")).toThrow(/row 2: score must be/);
  });

  it("discards saved state of the old layout cleanly on load", async () => {
    const store = new MemoryBiddingStore();
    const old = new BiddingRouter({ store, policy: new LinUcbPolicy() });
    await old.checkpoint(true);
    const saved = (await store.loadLearner("default"))!.state;
    await store.saveLearner("default", 1, { ...saved, featureVersion: 1, contentLayout: undefined }, false);
    const router = await BiddingRouter.open({ store });
    expect(router.state()).toMatchObject({ discardedSavedState: true, version: 2, models: {} });
    await router.checkpoint(true);
    expect((await BiddingRouter.open({ store })).state().discardedSavedState).toBe(false);
  });
});
