import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config/load.js";
import { retentionCutoff, retentionDays, tenantsUnderRetention } from "./policy.js";

describe("retention configuration", () => {
  it("keeps everything by default, and a tenant's own days replace the default's, null included", () => {
    expect(loadConfig({ env: {} }).retention).toEqual({ default: { days: null }, tenants: {}, intervalMs: 3_600_000, batchSize: 500 });
    const config = loadConfig({ env: { ATOMIC_RETENTION_DEFAULT_DAYS: "90" }, overrides: { retention: { tenants: { "ward-7": { days: 30 }, archive: { days: null } } } } }).retention;
    expect([retentionDays(config, "ward-7"), retentionDays(config, "archive"), retentionDays(config, "ward-8")]).toEqual([30, null, 90]);
    expect(() => loadConfig({ env: { ATOMIC_RETENTION_DEFAULT_DAYS: "0" } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { retention: { tenants: { "ward 7": { days: 1 } } } } })).toThrow(ConfigError);
  });

  it("cuts off whole days before now", () => {
    expect(retentionCutoff(30, new Date("2026-03-01T12:00:00.000Z"))).toEqual(new Date("2026-01-30T12:00:00.000Z"));
  });

  it("asks the database for tenants only when a default retention applies to all of them", async () => {
    const stored = async () => ["archive", "ward-7", "ward-9"];
    const listed = { "ward-7": { days: 30 }, archive: { days: null } };
    const noDefault = loadConfig({ env: {}, overrides: { retention: { tenants: listed } } }).retention;
    expect(await tenantsUnderRetention(noDefault, () => Promise.reject(new Error("not asked")))).toEqual(["ward-7"]);
    const withDefault = loadConfig({ env: {}, overrides: { retention: { default: { days: 7 }, tenants: listed } } }).retention;
    expect(await tenantsUnderRetention(withDefault, stored)).toEqual(["ward-7", "ward-9"]);
  });
});
