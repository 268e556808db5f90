import { describe, expect, it } from "vitest";
import { UUID_PATTERN, uuidv7, uuidv7Time } from "./uuidv7.js";

describe("uuidv7", () => {
  it("carries the millisecond time, version 7 and the RFC 9562 variant", () => {
    const at = Date.UTC(2026, 10, 26, 17, 5, 2, 123);
    const id = uuidv7(at);
    expect(id).toMatch(UUID_PATTERN);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    expect(uuidv7Time(id)).toBe(at);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
  });

  it("sorts by time and differs within one millisecond", () => {
    const ids = [uuidv7(1), uuidv7(2 ** 32), uuidv7(2 ** 48 - 1)];
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => uuidv7(1_000)));
    expect(same.size).toBe(1000);
  });

  it("refuses times that do not fit 48 bits", () => {
    for (const bad of [-1, 1.5, 2 ** 48, Number.NaN]) expect(() => uuidv7(bad)).toThrow(RangeError);
  });
});
