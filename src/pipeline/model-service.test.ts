import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.js";
import { systemEvent } from "../audit/events.js";
import type { AuditEvent } from "../audit/core/entry.js";
import type { ModelStatus } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import { MemoryModelServiceStore } from "../models/service/memory.js";
import { PostgresModelServiceStore } from "../models/service/postgres.js";
import type { ModelServiceStore } from "../models/service/interface.js";
import { createLogger } from "../observability/logger.js";
import { createPool } from "../store/postgres/database.js";
import { migrate } from "../store/postgres/migrate.js";
import { ModelService, type ModelServiceTarget, type ServiceChangeBy } from "./model-service.js";
import { ApiError } from "../gateway/errors.js";

const quiet = createLogger({ level: "silent" });
const model = (id: string): CatalogModel => ({ id, sha256: id.padEnd(64, "0") } as unknown as CatalogModel);

/** A process's live models, in memory: which of its pinned models a host serves. */
function fakeLive(ids: string[]) {
  const hosted = new Set(ids);
  const status = (id: string): ModelStatus => ({ id, state: hosted.has(id) ? "ready" : "unloaded", inFlight: 0, queued: 0 });
  const changes: string[] = [];
  const target: ModelServiceTarget = {
    models: { list: () => ids.map((id) => ({ model: model(id), status: status(id) })) },
    live: {
      serving: (id) => {
        if (!ids.includes(id)) throw new ApiError(404, "invalid_request_error", "model_not_found", `model ${id} is not pinned`);
        return { model: model(id), status: status(id) };
      },
      isHosted: (id) => hosted.has(id),
      unload: (id) => {
        hosted.delete(id);
        changes.push(`unload ${id}`);
        return { model: model(id), status: status(id) };
      },
      load: (id) => {
        hosted.add(id);
        changes.push(`load ${id}`);
        return { model: model(id), status: { ...status(id), state: "loading" } };
      },
    },
    onChanged: () => changes.push("changed"),
  };
  return { target, hosted, changes };
}

const events: AuditEvent[] = [];
const by = (kind: "models.unloaded" | "models.loaded"): ServiceChangeBy => ({
  updatedBy: "apikey:admin",
  audit: (before) => systemEvent(kind, { model: { id: before.model.id, sha256: before.model.sha256 }, outcome: { status: "succeeded" } }),
});

async function twoProcesses(store: ModelServiceStore) {
  const a = await ModelService.open(store, quiet);
  const b = await ModelService.open(store, quiet);
  const liveA = fakeLive(["m1", "m2"]);
  const liveB = fakeLive(["m1", "m2"]);
  a.follow(liveA.target);
  b.follow(liveB.target);
  return { a, b, liveA, liveB };
}

describe("ModelService over the memory store", () => {
  it("applies an unload made by one process to the other at its refresh, and a load back", async () => {
    const store = new MemoryModelServiceStore(async (event) => void events.push(event));
    const { a, b, liveA, liveB } = await twoProcesses(store);

    const unloaded = await a.unload("m1", undefined, by("models.unloaded"));
    expect(unloaded.status.state).toBe("unloaded");
    expect(liveA.changes).toEqual(["unload m1", "changed"]);
    expect(events.map((event) => event.kind)).toEqual(["models.unloaded"]);
    expect(liveB.hosted.has("m1")).toBe(true);

    await b.refresh();
    expect(liveB.changes).toEqual(["unload m1", "changed"]);
    expect(b.choice("m1")).toMatchObject({ unloaded: true, updatedBy: "apikey:admin", sha256: model("m1").sha256 });
    // Refreshing again changes nothing: the hosts already are as stored.
    await b.refresh();
    expect(liveB.changes).toHaveLength(2);

    await b.load("m1", by("models.loaded"));
    await a.refresh();
    expect(liveA.hosted.has("m1")).toBe(true);
    expect(liveA.changes).toEqual(["unload m1", "changed", "load m1", "changed"]);
    await a.stop();
    await b.stop();
  });

  it("answers 409 only where the change is already in force both here and in the store", async () => {
    const store = new MemoryModelServiceStore();
    const { a, b, liveB } = await twoProcesses(store);
    await a.unload("m2", undefined, by("models.unloaded"));
    await expect(a.unload("m2", undefined, by("models.unloaded"))).rejects.toMatchObject({ status: 409, code: "model_not_hosted" });
    // B has not refreshed yet: its host still serves, but the store says unloaded, so a load there is taken.
    expect(liveB.hosted.has("m2")).toBe(true);
    const loaded = await b.load("m2", by("models.loaded"));
    expect(loaded.status.state).toBe("ready");
    expect((await store.list()).find((row) => row.modelId === "m2")?.unloaded).toBe(false);
    await expect(b.load("m2", by("models.loaded"))).rejects.toMatchObject({ status: 409, code: "model_already_hosted" });
    await expect(a.unload("nope", undefined, by("models.unloaded"))).rejects.toMatchObject({ status: 404 });
  });

  it("is read at open, so that a starting process knows what not to load", async () => {
    const store = new MemoryModelServiceStore();
    const { a } = await twoProcesses(store);
    await a.unload("m1", undefined, by("models.unloaded"));
    const restarted = await ModelService.open(store, quiet);
    expect([...restarted.unloadedIds()]).toEqual(["m1"]);
    expect(restarted.isUnloaded("m2")).toBe(false);
  });

  it("keeps the models as they are when the store cannot be read", async () => {
    let failing = false;
    const inner = new MemoryModelServiceStore();
    const store: ModelServiceStore = { list: () => (failing ? Promise.reject(new Error("down")) : inner.list()), set: (choice, describe) => inner.set(choice, describe) };
    const { a, b, liveB } = await twoProcesses(store);
    await a.unload("m1", undefined, by("models.unloaded"));
    failing = true;
    await b.refresh();
    expect(liveB.hosted.has("m1")).toBe(true);
    failing = false;
    await b.refresh();
    expect(liveB.hosted.has("m1")).toBe(false);
  });
});

describe("PostgresModelServiceStore", () => {
  let database: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool(database.url);
    await migrate(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it("stores the choice with its audit event in one transaction, and neither when the event cannot be made", async () => {
    const store = new PostgresModelServiceStore(pool);
    const written = await store.set({ modelId: "m1", unloaded: true, sha256: model("m1").sha256, updatedBy: "apikey:x" }, (row) => systemEvent("models.unloaded", { model: { id: row.modelId, sha256: row.sha256! }, outcome: { status: "succeeded" } }));
    expect(written).toMatchObject({ modelId: "m1", unloaded: true, updatedBy: "apikey:x", updatedAt: expect.any(Date) });
    const queued = await pool.query("SELECT count(*)::int AS n FROM audit_queue");
    expect(queued.rows[0].n).toBeGreaterThanOrEqual(1);

    await expect(store.set({ modelId: "m1", unloaded: false, sha256: null, updatedBy: "apikey:y" }, () => {
      throw new Error("no event");
    })).rejects.toThrow("no event");
    expect(await store.list()).toEqual([expect.objectContaining({ modelId: "m1", unloaded: true, updatedBy: "apikey:x" })]);

    await store.set({ modelId: "m1", unloaded: false, sha256: null, updatedBy: "apikey:y" });
    expect(await store.list()).toEqual([expect.objectContaining({ modelId: "m1", unloaded: false, sha256: null, updatedBy: "apikey:y" })]);
  });
});
