import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditEvent } from "../../audit/core/entry.js";
import type { Refusal } from "../middleware/auth/index.js";
import { RefusalAggregator } from "./aggregator.js";

const refusal = (overrides: Partial<Refusal> = {}): Refusal => ({
  requestId: "r-1",
  method: "GET",
  route: "/v1/models",
  path: "/v1/models",
  status: 401,
  code: "authentication_required",
  reason: "no Authorization header",
  sourceAddress: "192.0.2.7",
  ...overrides,
});

function aggregator(options: { windowMs?: number; maxSources?: number } = {}): { events: AuditEvent[]; refusals: RefusalAggregator } {
  const events: AuditEvent[] = [];
  const refusals = new RefusalAggregator({ windowMs: options.windowMs ?? 60_000, maxSources: options.maxSources ?? 100, record: async (event) => void events.push(event) });
  return { events, refusals };
}

afterEach(() => vi.useRealTimers());

describe("RefusalAggregator", () => {
  it("records a source's first refusal at once and the window's repeats as one event with their count", async () => {
    const { events, refusals } = aggregator();
    for (let i = 0; i < 1000; i++) await refusals.refused(refusal({ requestId: `r-${i}` }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "request.refused", request: { id: "r-0", endpoint: "GET /v1/models" }, detail: { reason: "no Authorization header" } });
    await refusals.close();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ actor: { sourceAddress: "192.0.2.7" }, request: { id: "r-999", endpoint: "GET /v1/models" }, outcome: { code: "authentication_required" }, detail: { count: 999 } });
    expect(Date.parse((events[1]!.detail as { from: string }).from)).toBeLessThanOrEqual(Date.parse((events[1]!.detail as { to: string }).to));
  });

  it("keeps sources, codes and routes apart, and starts over when the window ends", async () => {
    vi.useFakeTimers();
    const { events, refusals } = aggregator({ windowMs: 1000 });
    for (const variant of [{}, { sourceAddress: "192.0.2.8" }, { code: "invalid_credentials" }, { route: "/v1/schemas" }]) {
      await refusals.refused(refusal(variant));
      await refusals.refused(refusal(variant));
    }
    expect(events).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.slice(4).map((event) => event.detail?.["count"])).toEqual([1, 1, 1, 1]);
    // A new window: the next refusal of a source is recorded at once again, and a quiet window writes nothing.
    await refusals.refused(refusal());
    expect(events).toHaveLength(9);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toHaveLength(9);
    await refusals.close();
  });

  it("records every 403 on its own: a decision about an identified caller", async () => {
    const { events, refusals } = aggregator();
    for (let i = 0; i < 3; i++) await refusals.refused(refusal({ status: 403, code: "policy_denied" }));
    await refusals.close();
    expect(events.map((event) => event.detail)).toEqual([{ reason: "no Authorization header" }, { reason: "no Authorization header" }, { reason: "no Authorization header" }]);
  });

  it("bounds its memory: past maxSources, new sources are counted per code and route without their address", async () => {
    const { events, refusals } = aggregator({ maxSources: 10 });
    for (let i = 0; i < 1000; i++) await refusals.refused(refusal({ sourceAddress: `10.0.${i >> 8}.${i & 255}` }));
    expect(events).toHaveLength(10);
    await refusals.close();
    expect(events).toHaveLength(11);
    expect(events[10]).toMatchObject({ actor: {}, request: { endpoint: "GET /v1/models" }, detail: { count: 990 } });
  });

  it("keeps neither the path nor unbounded or PII-bearing caller text", async () => {
    const { events, refusals } = aggregator();
    await refusals.refused(refusal({ route: "(unmatched)", path: "/v1/x/jane.doe%40hospital.example", requestId: "jane.doe@hospital.example", reason: `credential for 4111 1111 1111 1111 ${"x".repeat(5000)}` }));
    const stored = JSON.stringify(events);
    expect(stored).not.toMatch(/jane|hospital|4111/);
    expect(events[0]).toMatchObject({ request: { id: "[EMAIL_1]", endpoint: "GET (unmatched)" } });
    expect((events[0]!.detail!["reason"] as string).length).toBeLessThanOrEqual(200);
    await refusals.close();
  });
});
