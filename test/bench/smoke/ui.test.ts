import { describe, it } from "vitest";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("dashboard benchmark in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  it("bench:ui: the dashboard's first paint in Chromium, and the executions query behind it", () =>
    smoke("test/bench/ui.ts", { BENCH_SMOKE: "1" }, [/1\. first paint/, /executions .*first page of rows on screen/, /2\. executions/, /page 3 /]));
});
