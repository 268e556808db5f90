import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../config/schema.js";
import { limitFields, tenantLimits } from "./tenant-limits.js";

describe("tenantLimits", () => {
  const { limits } = ConfigSchema.parse({
    limits: {
      default: { requestsPerMinute: 600, burst: 50, tokensPerDay: 1_000_000 },
      tenants: { "ward-7": { tokensPerDay: 10_000 }, lab: { requestsPerMinute: null } },
    },
  });

  it("takes a tenant's own fields over the default's, and only those", () => {
    expect(tenantLimits(limits, "ward-7")).toEqual({ rate: { requestsPerMinute: 600, burst: 50 }, tokensPerDay: 10_000 });
    expect(tenantLimits(limits, "lab")).toEqual({ rate: null, tokensPerDay: 1_000_000 });
    expect(tenantLimits(limits, "anyone-else")).toEqual({ rate: { requestsPerMinute: 600, burst: 50 }, tokensPerDay: 1_000_000 });
  });

  it("takes the fields stored over HTTP over both, and only those", () => {
    expect(tenantLimits(limits, "ward-7", { burst: 5 })).toEqual({ rate: { requestsPerMinute: 600, burst: 5 }, tokensPerDay: 10_000 });
    expect(tenantLimits(limits, "lab", { requestsPerMinute: 60 })).toEqual({ rate: { requestsPerMinute: 60, burst: 50 }, tokensPerDay: 1_000_000 });
    expect(tenantLimits(limits, "ward-7", { tokensPerDay: null, requestsPerMinute: null })).toEqual({ rate: null, tokensPerDay: null });
    expect(tenantLimits(limits, "ward-7", {})).toEqual(tenantLimits(limits, "ward-7"));
    expect(limitFields(limits, "anyone-else", { burst: 1 })).toEqual({ requestsPerMinute: 600, burst: 1, tokensPerDay: 1_000_000 });
  });

  it("ignores inherited object properties as tenant names", () => {
    expect(tenantLimits(limits, "constructor")).toEqual(tenantLimits(limits, "anyone-else"));
  });

  it("limits nothing by default", () => {
    expect(tenantLimits(ConfigSchema.parse({}).limits, "x")).toEqual({ rate: null, tokensPerDay: null });
  });
});
