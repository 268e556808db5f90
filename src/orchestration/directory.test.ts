import { describe, expect, it } from "vitest";
import { createControlActivities } from "./activities/control.js";
import { CachedHostDirectory } from "./directory.js";
import type { HostAdvertisement } from "./types.js";
import { pino } from "pino";

const ad = (hostId: string, models: string[], advertisedAt: number): HostAdvertisement => ({
  hostId,
  taskQueue: `q-${hostId}`,
  models: models.map((id) => ({ id, sha256: "0".repeat(64) })),
  advertisedAt,
  ttlMs: 90_000,
});

/** A directory whose answer the test sets, counting the reads it serves. */
function countingSource(initial: HostAdvertisement[]) {
  const source = { hosts: initial, reads: 0, async list() { source.reads++; return source.hosts; } };
  return source;
}

describe("CachedHostDirectory", () => {
  it("serves one read to every caller within its age, and reads again after", async () => {
    let now = 1_000;
    const source = countingSource([ad("a", ["m"], 0)]);
    const cached = new CachedHostDirectory(source, 2_000, () => now);
    await Promise.all([cached.list(), cached.list(), cached.list()]);
    expect(source.reads).toBe(1);
    now += 2_000;
    await cached.list();
    expect(source.reads).toBe(1);
    now += 1;
    await cached.list();
    expect(source.reads).toBe(2);
  });

  it("reads afresh when asked to", async () => {
    const source = countingSource([]);
    const cached = new CachedHostDirectory(source, 60_000);
    await cached.list();
    await cached.list({ fresh: true });
    expect(source.reads).toBe(2);
  });
});

describe("locateModels over a cached directory", () => {
  it("asks the directory again before reporting no host, so a host that just advertised is found", async () => {
    const now = 10_000;
    const source = countingSource([ad("a", ["m"], now)]);
    const directory = new CachedHostDirectory(source, 60_000, () => now);
    const activities = createControlActivities({ executions: {} as never, contentHasher: {} as never, directory, logger: pino({ level: "silent" }), now: () => now });
    expect(await activities.locateModels(["m"])).toEqual({ m: ["q-a"] });
    expect(await activities.locateModels(["m"])).toEqual({ m: ["q-a"] });
    expect(source.reads).toBe(1);
    source.hosts = [ad("a", ["m"], now), ad("b", ["n"], now)];
    expect(await activities.locateModels(["m", "n"])).toEqual({ m: ["q-a"], n: ["q-b"] });
    expect(source.reads).toBe(2);
  });
});
