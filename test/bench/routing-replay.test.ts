import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HashedNgramFeaturizer } from "../../src/bidding/content/hashed.js";
import { LogisticThompsonPolicy } from "../../src/bidding/selection/logistic.js";
import { seededRng } from "../../src/util/rng.js";
import { operatingPoint, replay, splitTable, tableFromFile, twoModelTable, weakFirst, withContent, type Table } from "./routing-replay.js";
import { examTable, type GeneratedItem } from "./routing-tables.js";

/** A two-model outcome table as a site would export it, its rows in the order given per task. */
function writeTable(order: readonly ("weak" | "strong")[]): string {
  const items = examTable(5, 60);
  const rows = items.flatMap((item) => order.map((model) => {
    const i = model === "weak" ? 0 : 1;
    return JSON.stringify({ task: item.id, model, success: item.success[i], cost: i === 0 ? 1 : 100, latency_ms: 10, prompt: item.prompt });
  }));
  const path = join(mkdtempSync(join(tmpdir(), "atomic-routing-table-")), "table.jsonl");
  writeFileSync(path, rows.join("\n"));
  return path;
}

describe("the routing bench's two-model tables", () => {
  it("count calls to the stronger model as strong calls whichever model a file names first", () => {
    const asWritten = tableFromFile(writeTable(["strong", "weak"]));
    expect(asWritten.models.map((m) => m.id)).toEqual(["strong", "weak"]);
    const reference = tableFromFile(writeTable(["weak", "strong"]));
    const ordered = weakFirst(asWritten);
    expect(ordered.models.map((m) => m.id)).toEqual(["weak", "strong"]);
    expect(ordered.tasks.map((task) => task.outcomes)).toEqual(reference.tasks.map((task) => task.outcomes));
    // Every call to index 1 is a call to the strong model: all of them give the strong model's level.
    const allStrong = operatingPoint(ordered, new Int32Array(ordered.tasks.length).fill(1));
    expect(allStrong).toEqual(operatingPoint(reference, new Int32Array(reference.tasks.length).fill(1)));
    expect(allStrong.quality).toBeGreaterThan(operatingPoint(ordered, new Int32Array(ordered.tasks.length)).quality);
  });

  it("reads success flags as pandas writes them to CSV, and refuses a table with one it cannot read", () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-routing-table-"));
    const csv = join(dir, "table.csv");
    writeFileSync(csv, "task,model,success,cost,latency_ms\nt1,weak,False,1,10\nt1,strong,True,100,10\nt2,weak,True,1,10\nt2,strong,True,100,10\n");
    expect(tableFromFile(csv).tasks.map((task) => task.outcomes.map((o) => o.score))).toEqual([[0, 1], [1, 1]]);
    writeFileSync(csv, "task,model,success,cost,latency_ms\nt1,weak,maybe,1,10\nt1,strong,True,100,10\n");
    expect(() => tableFromFile(csv)).toThrow(/task t1, model weak: score must be from 0 to 1/);
  });

  it("takes a table without latencies, every model as fast, and refuses a latency that is not a number", () => {
    const csv = join(mkdtempSync(join(tmpdir(), "atomic-routing-table-")), "table.csv");
    writeFileSync(csv, "task,model,score,cost\nt1,weak,0.5,1\nt1,strong,1,100\n");
    expect(tableFromFile(csv).tasks[0]!.outcomes.map((o) => o.latencyMs)).toEqual([0, 0]);
    writeFileSync(csv, "task,model,score,cost,latency_ms\nt1,weak,0.5,1,fast\nt1,strong,1,100,12\n");
    expect(() => tableFromFile(csv)).toThrow(/task t1, model weak: cost must be a number, and latency_ms one where given/);
  });

  it("leaves a table already weak-first as it is", () => {
    const generated = twoModelTable("exam-like", examTable(5, 60));
    expect(weakFirst(generated)).toBe(generated);
    const fromFile = tableFromFile(writeTable(["weak", "strong"]));
    expect(weakFirst(fromFile)).toBe(fromFile);
  });

  it("splits a table into a history and the rest, disjoint, each in the table's order", () => {
    const table = twoModelTable("exam-like", examTable(5, 101));
    const { history, rest } = splitTable(table, 0.5, 3);
    expect(history.tasks.length).toBe(51);
    expect(rest.tasks.length).toBe(50);
    const position = new Map(table.tasks.map((task, i) => [task.id, i]));
    for (const part of [history, rest]) {
      const positions = part.tasks.map((task) => position.get(task.id)!);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(new Set([...history.tasks, ...rest.tasks].map((task) => task.id)).size).toBe(101);
  });

  it("replays after teaching the history first: a kind of task the weak model always fails goes to the strong one from the start", async () => {
    // Half the tasks are proofs the weak model always fails, half are lookups both always get right.
    const items = Array.from({ length: 400 }, (_, i): GeneratedItem => {
      const proof = i % 2 === 0;
      return {
        id: `t${i}`, kind: proof ? "proof" : "lookup", cues: "", p: [proof ? 0 : 1, 1],
        prompt: proof ? `Prove that the sum of the first ${i} odd numbers is a perfect square.` : `What is the capital of country number ${i}?`,
        success: [!proof, true], inputTokens: 16, outputTokens: [20, 20],
      };
    });
    const featurizer = new HashedNgramFeaturizer();
    const table = withContent(twoModelTable("proofs", items), featurizer);
    const { history, rest } = splitTable(table, 0.5, 7);
    const firstProofs = async (options: { history?: Table }): Promise<number> => {
      const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(11) });
      const order = rest.tasks.map((_, i) => i);
      const run = await replay(rest, order, policy, { qualityTarget: 0.95 }, featurizer, "engine", options);
      const proofs = order.filter((t) => rest.tasks[t]!.kind === "proof").slice(0, 20);
      return proofs.filter((t) => run.choices[t] === 1).length;
    };
    const taught = await firstProofs({ history });
    expect(taught).toBeGreaterThanOrEqual(19);
    expect(taught).toBeGreaterThan(await firstProofs({}));
  });
});
