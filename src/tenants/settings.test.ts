import type { Pool } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.js";
import { ConfigSchema } from "../config/schema.js";
import { createPool } from "../store/postgres/database.js";
import { migrate } from "../store/postgres/migrate.js";
import { PostgresTenantSettingsStore } from "./postgres.js";
import { TenantSettings } from "./settings.js";

let database: TestDatabase;
let pool: Pool;
let store: PostgresTenantSettingsStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
  store = new PostgresTenantSettingsStore(pool);
});
beforeEach(async () => {
  await pool.query("DELETE FROM tenant_settings");
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const file = ConfigSchema.parse({
  limits: {
    default: { requestsPerMinute: 600, burst: 50, tokensPerDay: 1_000_000 },
    tenants: { "ward-7": { requestsPerMinute: 60 } },
  },
  bidding: { tenants: { "ward-7": { constraints: { maxLatencyMs: 5000 } } } },
});

describe("PostgresTenantSettingsStore", () => {
  it("stores, replaces, lists and removes a tenant's settings, stamped with who and when", async () => {
    const first = await store.upsert({ tenant: "ward-7", limits: { burst: 5 }, biddingCriteria: null, updatedBy: "key-a" });
    expect(first).toMatchObject({ tenant: "ward-7", limits: { burst: 5 }, biddingCriteria: null, updatedBy: "key-a" });
    const second = await store.upsert({ tenant: "ward-7", limits: null, biddingCriteria: { weights: { cost: 2 } }, updatedBy: "key-b" });
    expect(second).toMatchObject({ limits: null, biddingCriteria: { weights: { cost: 2 } }, updatedBy: "key-b" });
    expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
    await store.upsert({ tenant: "lab", limits: { tokensPerDay: null }, biddingCriteria: null, updatedBy: "key-a" });

    expect((await store.list()).map((row) => [row.tenant, row.limits])).toEqual([["lab", { tokensPerDay: null }], ["ward-7", null]]);
    expect(await store.delete("ward-7")).toEqual(second);
    expect(await store.delete("ward-7")).toBeNull();
    expect((await store.list()).map((row) => row.tenant)).toEqual(["lab"]);
  });

  it("refuses at load a row the configuration file would refuse, naming the tenant", async () => {
    await pool.query(`INSERT INTO tenant_settings VALUES ('ward-7', '{"burst": 0}', NULL, now(), 'psql')`);
    await expect(TenantSettings.open(store, file)).rejects.toThrow(/tenant ward-7: limits is invalid: burst/);
  });
});

describe("TenantSettings", () => {
  it("answers the file's settings for a tenant with nothing stored", async () => {
    const settings = await TenantSettings.open(store, file);
    expect(settings.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(settings.criteriaFor("ward-7")).toEqual({ constraints: { maxLatencyMs: 5000 } });
    expect(settings.criteriaFor("lab")).toBeUndefined();
    expect(settings.view("ward-7")).toMatchObject({ stored: null, effective: settings.view("ward-7").file });
  });

  it("takes stored limits field by field over the file's, and stored criteria instead of the file's", async () => {
    const settings = await TenantSettings.open(store, file);
    const { before, after } = await settings.change("ward-7", { limits: { burst: 5, tokensPerDay: null }, criteria: { weights: { cost: 2 } } }, "key-a");
    expect(before.stored).toBeNull();
    expect(settings.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 5 }, tokensPerDay: null });
    // Replaced, not merged: the file's latency constraint no longer applies to the tenant.
    expect(settings.criteriaFor("ward-7")).toEqual({ weights: { cost: 2 } });
    expect(after).toMatchObject({
      file: { limits: { requestsPerMinute: 60, burst: 50, tokensPerDay: 1_000_000 }, criteria: { constraints: { maxLatencyMs: 5000 } } },
      stored: { limits: { burst: 5, tokensPerDay: null }, biddingCriteria: { weights: { cost: 2 } }, updatedBy: "key-a" },
      effective: { limits: { requestsPerMinute: 60, burst: 5, tokensPerDay: null }, criteria: { weights: { cost: 2 } } },
    });
  });

  it("replaces the parts a change gives and keeps the others; null criteria give the file's back", async () => {
    const settings = await TenantSettings.open(store, file);
    await settings.change("ward-7", { limits: { burst: 5 }, criteria: { weights: { cost: 2 } } }, "key-a");
    await settings.change("ward-7", { limits: { tokensPerDay: 10 } }, "key-a");
    expect(settings.view("ward-7").stored).toMatchObject({ limits: { tokensPerDay: 10 }, biddingCriteria: { weights: { cost: 2 } } });
    await settings.change("ward-7", { criteria: null }, "key-b");
    expect(settings.view("ward-7").stored).toMatchObject({ limits: { tokensPerDay: 10 }, biddingCriteria: null, updatedBy: "key-b" });
    expect(settings.criteriaFor("ward-7")).toEqual({ constraints: { maxLatencyMs: 5000 } });
  });

  it("is read back from the database by a gateway that starts later", async () => {
    const settings = await TenantSettings.open(store, file);
    await settings.change("ward-7", { limits: { burst: 5 }, criteria: { weights: { cost: 2 } } }, "key-a");
    const restarted = await TenantSettings.open(new PostgresTenantSettingsStore(pool), file);
    expect(restarted.view("ward-7")).toEqual(settings.view("ward-7"));
    expect(restarted.limitsFor("ward-7")).toEqual({ rate: { requestsPerMinute: 60, burst: 5 }, tokensPerDay: 1_000_000 });
  });

  it("removes what was stored, and says when nothing was", async () => {
    const settings = await TenantSettings.open(store, file);
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
    const settings = await TenantSettings.open(store, file);
    const changed: string[] = [];
    settings.onLimitsChanged((tenant) => changed.push(tenant));
    // The table's own check refuses the name: a real failed write, after which nothing may differ.
    await expect(settings.change("-not-a-tenant", { limits: { burst: 1 } }, "key-a")).rejects.toThrow(/tenant_settings_tenant_check/);
    expect(settings.view("-not-a-tenant").stored).toBeNull();
    expect(settings.limitsFor("-not-a-tenant")).toEqual({ rate: { requestsPerMinute: 600, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(changed).toEqual([]);
  });

  it("tells its listeners when a tenant's limits changed, not when only its criteria did", async () => {
    const settings = await TenantSettings.open(store, file);
    const changed: string[] = [];
    settings.onLimitsChanged((tenant) => changed.push(tenant));
    await settings.change("ward-7", { criteria: { weights: { cost: 2 } } }, "key-a");
    await settings.change("lab", { limits: { burst: 2 } }, "key-a");
    await settings.remove("ward-7");
    await settings.remove("lab");
    expect(changed).toEqual(["lab", "lab"]);
  });

  it("applies concurrent changes one after the other, ending as the database does", async () => {
    const settings = await TenantSettings.open(store, file);
    const [first, second] = await Promise.all([
      settings.change("ward-7", { limits: { burst: 3 } }, "key-a"),
      settings.change("ward-7", { limits: { burst: 4 } }, "key-b"),
    ]);
    expect(second.before).toEqual(first.after);
    expect((await TenantSettings.open(store, file)).view("ward-7")).toEqual(settings.view("ward-7"));
  });
});
