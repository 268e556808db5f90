import { describe, it } from "vitest";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("gateway benchmarks in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  it("bench (gateway): throughput ratio, added latency against the durable floor, throughput at 32", () =>
    smoke("test/bench/gateway.ts", { BENCH_SMOKE: "1", BENCH_ROUNDS: "1", BENCH_REQUESTS: "30" }, [
      /1\. generation throughput/, /ratio/, /2\. added latency/, /durable floor .*fdatasync/, /durable added p50 .* = floor p50/, /bare Hono in-process/, /gateway code alone: p50 .* above the bare app/,
      /3\. throughput at concurrency 32/, /ceiling: \d+ requests\/s from a plain node:http server/, /requests\/s \(.*% of the ceiling\) .*p99/,
    ], [], [
      // The durable runs close their database as the gateway does: after the outcomes still being written.
      /Cannot use a pool after calling end/,
    ]));

  it("bench:metrics: recording cost per request and scrape time", () =>
    smoke("test/bench/metrics.ts", { BENCH_SMOKE: "1" }, [/1\. recording cost per request/, /added: /, /2\. scrape \(/]));
});
