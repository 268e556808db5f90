import { Writable } from "node:stream";
import type { Pool } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, emptyAuditQueue, type TestDatabase } from "../../test/support/database.js";
import { systemEvent } from "../audit/events.js";
import { ConfigSchema } from "../config/schema.js";
import { createLogger } from "../observability/logger.js";
import { createPool } from "../store/postgres/database.js";
import { migrate } from "../store/postgres/migrate.js";
import type { TenantSettingsStore } from "./interface.js";
import { PostgresTenantSettingsStore } from "./postgres.js";
import { TenantSettings, type FileSettings } from "./settings.js";

let database: TestDatabase;
let pool: Pool;
/** Another gateway's connections to the same database. */
let otherPool: Pool;
let store: PostgresTenantSettingsStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  otherPool = createPool(database.url);
  await migrate(pool);
  store = new PostgresTenantSettingsStore(pool);
});
beforeEach(async () => {
  await pool.query("DELETE FROM tenant_settings");
});
afterAll(async () => {
  await pool.end();
  await otherPool.end();
  await database.drop();
});

const quiet = createLogger({ level: "silent" });
const open = (settingsStore: TenantSettingsStore = store, fileSettings: FileSettings = file) => TenantSettings.open(settingsStore, fileSettings, quiet);

/** A TenantSettings whose warnings are kept, parsed, in `warnings`. */
async function openLogged(settingsStore: TenantSettingsStore) {
  const warnings: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      warnings.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      callback();
    },
  });
  return { warnings, settings: await TenantSettings.open(settingsStore, file, createLogger({ level: "warn", destination })) };
}

const file = ConfigSchema.parse({
  limits: {
    default: { requestsPerMinute: 600, burst: 50, tokensPerDay: 1_000_000 },
    tenants: { "ward-7": { requestsPerMinute: 60 } },
  },
  bidding: { tenants: { "ward-7": { constraints: { maxLatencyMs: 5000 } } } },
});

describe("PostgresTenantSettingsStore", () => {
  it("stores, replaces, lists and removes a tenant's settings, stamped with who and when", async () => {
    const first = await store.upsert({ tenant: "ward-7", limits: { burst: 5 }, biddingCriteria: null, retention: null, updatedBy: "key-a" });
    expect(first).toMatchObject({ tenant: "ward-7", limits: { burst: 5 }, biddingCriteria: null, retention: null, updatedBy: "key-a" });
    const second = await store.upsert({ tenant: "ward-7", limits: null, biddingCriteria: { weights: { cost: 2 } }, retention: null, updatedBy: "key-b" });
    expect(second).toMatchObject({ limits: null, biddingCriteria: { weights: { cost: 2 } }, retention: null, updatedBy: "key-b" });
    expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
    await store.upsert({ tenant: "lab", limits: { tokensPerDay: null }, biddingCriteria: null, retention: null, updatedBy: "key-a" });

    expect((await store.list()).map((row) => [row.tenant, row.limits])).toEqual([["lab", { tokensPerDay: null }], ["ward-7", null]]);
    expect(await store.delete("ward-7")).toEqual(second);
    expect(await store.delete("ward-7")).toBeNull();
    expect((await store.list()).map((row) => row.tenant)).toEqual(["lab"]);
  });

  it("queues a change's audit event in the change's own transaction: neither is kept without the other", async () => {
    const queued = async () => (await pool.query<{ event: string }>("SELECT event FROM audit_queue")).rows.map((row) => JSON.parse(row.event) as { kind: string; detail: { tenant: string; limits: unknown } });
    await emptyAuditQueue(pool);
    const event = (kind: string) => (settings: { tenant: string; limits: unknown }) => systemEvent("tenant.settings.changed", { detail: { tenant: settings.tenant, limits: settings.limits, kind } });
    await store.upsert({ tenant: "audited", limits: { burst: 3 }, biddingCriteria: null, retention: null, updatedBy: "key-a" }, event("put"));
    expect((await queued()).map((e) => e.detail)).toEqual([{ tenant: "audited", limits: { burst: 3 }, kind: "put" }]);

    // An event that cannot be made: the write goes with it.
    const failing = () => { throw new Error("no event"); };
    await expect(store.upsert({ tenant: "audited", limits: { burst: 9 }, biddingCriteria: null, retention: null, updatedBy: "key-b" }, failing)).rejects.toThrow("no event");
    await expect(store.delete("audited", failing)).rejects.toThrow("no event");
    expect((await store.list()).find((row) => row.tenant === "audited")?.limits).toEqual({ burst: 3 });
    expect(await queued()).toHaveLength(1);

    expect(await store.delete("audited", event("delete"))).not.toBeNull();
    // Nothing removed, nothing recorded.
    expect(await store.delete("audited", event("delete"))).toBeNull();
    expect((await queued()).map((e) => e.detail.limits)).toEqual([{ burst: 3 }, { burst: 3 }]);
    await emptyAuditQueue(pool);
  });

  it("refuses at load a row the configuration file would refuse, naming the tenant", async () => {
    await pool.query(`INSERT INTO tenant_settings VALUES ('ward-7', '{"burst": 0}', NULL, now(), 'psql')`);
    await expect(open()).rejects.toThrow(/tenant ward-7: limits is invalid: burst/);
  });
});

describe("TenantSettings", () => {
  it("answers the file's settings for a tenant with nothing stored", async () => {
    const settings = await open();
    expect(settings.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(settings.criteriaFor("ward-7")).toEqual({ constraints: { maxLatencyMs: 5000 } });
    expect(settings.criteriaFor("lab")).toBeUndefined();
    expect(settings.view("ward-7")).toMatchObject({ stored: null, effective: settings.view("ward-7").file });
  });

  it("takes stored limits field by field over the file's, and stored criteria instead of the file's", async () => {
    const settings = await open();
    const { before, after } = await settings.change("ward-7", { limits: { burst: 5, tokensPerDay: null }, criteria: { weights: { cost: 2 } } }, "key-a");
    expect(before.stored).toBeNull();
    expect(settings.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 5 }, tokensPerDay: null });
    // Replaced, not merged: the file's latency constraint no longer applies to the tenant.
    expect(settings.criteriaFor("ward-7")).toEqual({ weights: { cost: 2 } });
    expect(after).toMatchObject({
      file: { limits: { requestsPerMinute: 60, burst: 50, tokensPerDay: 1_000_000 }, criteria: { constraints: { maxLatencyMs: 5000 } } },
      stored: { limits: { burst: 5, tokensPerDay: null }, biddingCriteria: { weights: { cost: 2 } }, retention: null, updatedBy: "key-a" },
      effective: { limits: { requestsPerMinute: 60, burst: 5, tokensPerDay: null }, criteria: { weights: { cost: 2 } } },
    });
  });

  it("replaces the parts a change gives and keeps the others; null criteria give the file's back", async () => {
    const settings = await open();
    await settings.change("ward-7", { limits: { burst: 5 }, criteria: { weights: { cost: 2 } } }, "key-a");
    await settings.change("ward-7", { limits: { tokensPerDay: 10 } }, "key-a");
    expect(settings.view("ward-7").stored).toMatchObject({ limits: { tokensPerDay: 10 }, biddingCriteria: { weights: { cost: 2 } } });
    await settings.change("ward-7", { criteria: null }, "key-b");
    expect(settings.view("ward-7").stored).toMatchObject({ limits: { tokensPerDay: 10 }, biddingCriteria: null, retention: null, updatedBy: "key-b" });
    expect(settings.criteriaFor("ward-7")).toEqual({ constraints: { maxLatencyMs: 5000 } });
  });

  it("is read back from the database by a gateway that starts later", async () => {
    const settings = await open();
    await settings.change("ward-7", { limits: { burst: 5 }, criteria: { weights: { cost: 2 } } }, "key-a");
    const restarted = await open(new PostgresTenantSettingsStore(pool));
    expect(restarted.view("ward-7")).toEqual(settings.view("ward-7"));
    expect(restarted.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 5 }, tokensPerDay: 1_000_000 });
  });

  it("removes what was stored, and says when nothing was", async () => {
    const settings = await open();
    expect(await settings.remove("ward-7")).toBeNull();
    await settings.change("ward-7", { limits: { burst: 5 } }, "key-a");
    const removed = await settings.remove("ward-7");
    expect(removed?.before.stored?.limits).toEqual({ burst: 5 });
    expect(removed?.after.stored).toBeNull();
    expect(removed?.after.effective).toEqual(removed?.after.file);
    expect(settings.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(await store.list()).toEqual([]);
  });

  it("changes nothing in memory when the write fails", async () => {
    const settings = await open();
    const changed: string[] = [];
    settings.onLimitsChanged((tenant) => changed.push(tenant));
    // The table's own check refuses the name: a real failed write, after which nothing may differ.
    await expect(settings.change("-not-a-tenant", { limits: { burst: 1 } }, "key-a")).rejects.toThrow(/tenant_settings_tenant_check/);
    expect(settings.view("-not-a-tenant").stored).toBeNull();
    expect(settings.limitsFor("-not-a-tenant")).toEqual({ rate: { requestsPerMinute: 600, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(changed).toEqual([]);
  });

  it("tells its listeners when a tenant's limits changed, not when only its criteria did", async () => {
    const settings = await open();
    const changed: string[] = [];
    settings.onLimitsChanged((tenant) => changed.push(tenant));
    await settings.change("ward-7", { criteria: { weights: { cost: 2 } } }, "key-a");
    await settings.change("lab", { limits: { burst: 2 } }, "key-a");
    await settings.remove("ward-7");
    await settings.remove("lab");
    expect(changed).toEqual(["lab", "lab"]);
  });

  it("applies concurrent changes one after the other, ending as the database does", async () => {
    const settings = await open();
    const [first, second] = await Promise.all([
      settings.change("ward-7", { limits: { burst: 3 } }, "key-a"),
      settings.change("ward-7", { limits: { burst: 4 } }, "key-b"),
    ]);
    expect(second.before).toEqual(first.after);
    expect((await open()).view("ward-7")).toEqual(settings.view("ward-7"));
  });
});

describe("TenantSettings on two gateways of one database", () => {
  it("takes the other gateway's changes at refresh, removals included, telling its listeners of changed limits", async () => {
    const a = await open();
    const b = await open(new PostgresTenantSettingsStore(otherPool));
    const changed: string[] = [];
    b.onLimitsChanged((tenant) => changed.push(tenant));

    await a.change("ward-7", { limits: { burst: 5 }, criteria: { weights: { cost: 2 } } }, "key-a");
    expect(b.view("ward-7").stored).toBeNull();
    await b.refresh();
    expect(b.view("ward-7")).toEqual(a.view("ward-7"));
    expect(b.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 5 }, tokensPerDay: 1_000_000 });
    expect(changed).toEqual(["ward-7"]);

    // Criteria alone, and limits that change nothing in force, leave the tenant's rate bucket alone.
    await a.change("lab", { criteria: { weights: { latency: 1 } }, limits: { burst: 50 } }, "key-a");
    await b.refresh();
    expect(b.criteriaFor("lab")).toEqual({ weights: { latency: 1 } });
    expect(changed).toEqual(["ward-7"]);

    await a.remove("ward-7");
    await b.refresh();
    expect(b.view("ward-7").stored).toBeNull();
    expect(b.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(b.criteriaFor("ward-7")).toEqual({ constraints: { maxLatencyMs: 5000 } });
    expect(changed).toEqual(["ward-7", "ward-7"]);

    // Nothing new: nobody is told anything.
    await b.refresh();
    expect(changed).toEqual(["ward-7", "ward-7"]);
  });

  it("reads the table for a refresh only once the write before it is done", async () => {
    const calls: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tracked: TenantSettingsStore = {
      list: async () => (calls.push("list"), store.list()),
      upsert: (settings) => store.upsert(settings),
      delete: async (tenant) => {
        calls.push("delete");
        await held;
        const removed = await store.delete(tenant);
        calls.push("deleted");
        return removed;
      },
    };
    const settings = await open(tracked);
    await settings.change("ward-7", { limits: { burst: 5 } }, "key-a");
    calls.length = 0;

    const removing = settings.remove("ward-7");
    const refreshing = settings.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["delete"]);
    release();
    await Promise.all([removing, refreshing]);
    expect(calls).toEqual(["delete", "deleted", "list"]);
    expect(settings.view("ward-7").stored).toBeNull();
  });

  it("keeps what it had while a row is invalid, warning once per distinct content, and takes the table once fixed", async () => {
    const a = await open();
    await a.change("ward-7", { limits: { burst: 5 } }, "key-a");
    const { settings: b, warnings } = await openLogged(new PostgresTenantSettingsStore(otherPool));
    const before = b.view("ward-7");

    // Written by hand, past the validation every HTTP change goes through; and a valid change beside it.
    await pool.query(`UPDATE tenant_settings SET limits = '{"burst": 0}' WHERE tenant = 'ward-7'`);
    await a.change("lab", { limits: { burst: 2 } }, "key-a");
    await expect(b.refresh()).resolves.toBeUndefined();
    await b.refresh();
    expect(b.view("ward-7")).toEqual(before);
    expect(b.view("lab").stored).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: "warn", tenant: "ward-7", msg: expect.stringMatching(/tenant ward-7 is invalid/) });

    await pool.query(`UPDATE tenant_settings SET limits = '{"burst": -1}' WHERE tenant = 'ward-7'`);
    await b.refresh();
    await b.refresh();
    expect(warnings).toHaveLength(2);

    await pool.query(`UPDATE tenant_settings SET limits = '{"burst": 7}' WHERE tenant = 'ward-7'`);
    await b.refresh();
    expect(b.limitsFor("ward-7").rate).toEqual({ requestsPerMinute: 60, burst: 7 });
    expect(b.limitsFor("lab").rate).toEqual({ requestsPerMinute: 600, burst: 2 });
    expect(warnings).toHaveLength(2);
  });

  it("keeps what it had while the database cannot be read, warning once per streak of failures", async () => {
    let reachable = true;
    const flaky: TenantSettingsStore = {
      list: () => (reachable ? store.list() : Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"))),
      upsert: (settings) => store.upsert(settings),
      delete: (tenant) => store.delete(tenant),
    };
    await store.upsert({ tenant: "ward-7", limits: { burst: 5 }, biddingCriteria: null, retention: null, updatedBy: "key-a" });
    const { settings, warnings } = await openLogged(flaky);

    reachable = false;
    await settings.refresh();
    await settings.refresh();
    expect(settings.limitsFor("ward-7").rate).toEqual({ requestsPerMinute: 60, burst: 5 });
    expect(warnings.map((line) => line.msg)).toEqual(["tenant settings: could not be read again; the settings read before stay in force"]);

    reachable = true;
    await settings.refresh();
    reachable = false;
    await settings.refresh();
    expect(warnings).toHaveLength(2);
  });

  it("refreshes on its own at the interval until stopped", async () => {
    const a = await open();
    const b = await open(new PostgresTenantSettingsStore(otherPool));
    b.refreshEvery(100);
    try {
      await a.change("ward-7", { limits: { burst: 5 } }, "key-a");
      await expect.poll(() => b.limitsFor("ward-7").rate, { timeout: 10_000, interval: 20 }).toEqual({ requestsPerMinute: 60, burst: 5 });
    } finally {
      await b.stop();
    }
    await a.change("ward-7", { limits: { burst: 6 } }, "key-a");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.limitsFor("ward-7").rate).toEqual({ requestsPerMinute: 60, burst: 5 });
  });
});
