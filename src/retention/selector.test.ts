import { describe, expect, it } from "vitest";
import { erasureSelector, ErasureSelectorError, parseInstant } from "./selector.js";

describe("erasure selectors", () => {
  it("reads a date as midnight UTC and a date-time only with its offset", () => {
    expect(parseInstant("2026-01-31")).toEqual(new Date("2026-01-31T00:00:00.000Z"));
    expect(parseInstant("2026-01-31T18:30:00+02:00")).toEqual(new Date("2026-01-31T16:30:00.000Z"));
    expect(parseInstant("2026-01-31T18:30Z")).toEqual(new Date("2026-01-31T18:30:00.000Z"));
    for (const bad of ["2026-02-30", "2026-13-01", "2026-01-31T18:30:00", "2026-01-31T24:00:00Z", "31/01/2026", "yesterday", ""]) {
      expect(parseInstant(bad), bad).toBeNull();
    }
  });

  it("needs something besides the tenant, and each selector in the form records use", () => {
    const error = (input: Parameters<typeof erasureSelector>[0]) => {
      try {
        erasureSelector(input);
      } catch (caught) {
        return caught instanceof ErasureSelectorError ? [caught.param, caught.code] : caught;
      }
      return undefined;
    };
    expect(error({ tenant: "ward-7" })).toEqual([null, "erasure_selector_missing"]);
    expect(error({ tenant: "ward 7", before: "2026-01-01" })).toEqual(["tenant", "invalid_parameter"]);
    expect(error({ tenant: "ward-7", subject: "two words" })).toEqual(["subject", "invalid_parameter"]);
    expect(error({ tenant: "ward-7", executionId: "42" })).toEqual(["execution_id", "invalid_parameter"]);
    expect(error({ tenant: "ward-7", before: "2026-02-30" })).toEqual(["before", "invalid_parameter"]);
    expect(erasureSelector({ tenant: "ward-7", subject: "apikey:00000000000000aa", executionId: "0190C1A2-0000-7000-8000-000000000000", before: "2026-01-01" })).toEqual({
      tenant: "ward-7",
      subject: "apikey:00000000000000aa",
      executionId: "0190c1a2-0000-7000-8000-000000000000",
      before: new Date("2026-01-01T00:00:00.000Z"),
    });
  });
});
