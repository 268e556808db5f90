import { describe, expect, it, vi } from "vitest";
import { GroupCommit } from "./group-commit.js";

describe("GroupCommit", () => {
  it("writes what was submitted in one event-loop turn together, and batches what arrives while a write is in flight", async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const committer = new GroupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = [1, 2].map((n) => committer.submit(n));
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([[1, 2]]);
    const rest = [3, 4, 5].map((n) => committer.submit(n));
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    release();
    await Promise.all([...first, ...rest]);
    expect(writes).toEqual([[1, 2], [3, 4, 5]]);
  });

  it("lets deferrable items wait gatherMs for company, and writes at once when an item somebody waits on comes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const writes: number[][] = [];
      const committer = new GroupCommit<number>(async (items) => void writes.push(items), 500, 1_000);
      const deferred = [committer.submit(1, true)];
      await new Promise((r) => setImmediate(r));
      deferred.push(committer.submit(2, true));
      vi.advanceTimersByTime(999);
      await new Promise((r) => setImmediate(r));
      expect(writes).toEqual([]);
      vi.advanceTimersByTime(1);
      await Promise.all(deferred);
      expect(writes).toEqual([[1, 2]]);

      const waiting = [committer.submit(3, true)];
      await new Promise((r) => setImmediate(r));
      expect(writes).toHaveLength(1);
      waiting.push(committer.submit(4));
      await Promise.all(waiting);
      expect(writes).toEqual([[1, 2], [3, 4]]);
      // An item somebody waits on, alone, goes at the end of the turn, as before.
      await committer.submit(5);
      expect(writes).toEqual([[1, 2], [3, 4], [5]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("resolves a caller only after the write holding its item", async () => {
    let done = false;
    const committer = new GroupCommit<number>(async () => {
      await new Promise((r) => setTimeout(r, 5));
      done = true;
    });
    await committer.submit(1);
    expect(done).toBe(true);
  });

  it("gives each item of a failed batch its own outcome", async () => {
    let release!: () => void;
    let calls = 0;
    const committer = new GroupCommit<number>(async (items) => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
      if (items.includes(3)) throw new Error(`bad ${items.join(",")}`);
    });
    const first = committer.submit(1);
    await new Promise((r) => setImmediate(r));
    const outcomes = [2, 3, 4].map((n) => committer.submit(n).then(() => "ok", (e: Error) => e.message));
    release();
    await first;
    expect(await Promise.all(outcomes)).toEqual(["ok", "bad 3", "ok"]);
  });

  it("splits more than maxBatch items into several writes", async () => {
    const sizes: number[] = [];
    let release!: () => void;
    const committer = new GroupCommit<number>(async (items) => {
      sizes.push(items.length);
      if (sizes.length === 1) await new Promise<void>((r) => (release = r));
    }, 2);
    const all = [0, 1, 2, 3, 4].map((n) => committer.submit(n));
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all(all);
    expect(sizes).toEqual([2, 2, 1]);
  });
});
