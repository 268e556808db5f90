import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../config/schema.js";
import { tenantLimits } from "./tenant-limits.js";

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

  it("ignores inherited object properties as tenant names", () => {
    expect(tenantLimits(limits, "constructor")).toEqual(tenantLimits(limits, "anyone-else"));
  });

  it("limits nothing by default", () => {
    expect(tenantLimits(ConfigSchema.parse({}).limits, "x")).toEqual({ rate: null, tokensPerDay: null });
  });
});
