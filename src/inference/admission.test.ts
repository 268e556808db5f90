import { describe, expect, it } from "vitest";
import { AdmissionGate } from "./admission.js";
import { InferenceAbortedError, QueueFullError } from "./errors.js";

describe("AdmissionGate", () => {
  it("admits up to the concurrency, queues up to maxQueue, refuses the next", async () => {
    const gate = new AdmissionGate("m", { concurrency: 2, maxQueue: 1, queueTimeoutMs: 60_000 });
    const a = await gate.acquire();
    const b = await gate.acquire();
    const queued = gate.acquire();
    expect(gate.queued).toBe(1);
    await expect(gate.acquire()).rejects.toBeInstanceOf(QueueFullError);
    a.release(10);
    const c = await queued;
    expect(gate.inFlight).toBe(2);
    b.release(10);
    c.release(10);
    expect(gate.inFlight).toBe(0);
  });

  it("serves waiters first come, first served", async () => {
    const gate = new AdmissionGate("m", { concurrency: 1, maxQueue: 3, queueTimeoutMs: 60_000 });
    const first = await gate.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => gate.acquire().then((admission) => { order.push(n); admission.release(1); }));
    first.release(1);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });

  it("refuses a waiter after the queue timeout with a Retry-After estimate", async () => {
    const gate = new AdmissionGate("m", { concurrency: 1, maxQueue: 1, queueTimeoutMs: 20 });
    const held = await gate.acquire();
    const error = await gate.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(gate.queued).toBe(0);
    held.release(1);
  });

  it("removes an aborted waiter from the queue", async () => {
    const gate = new AdmissionGate("m", { concurrency: 1, maxQueue: 1, queueTimeoutMs: 60_000 });
    const held = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(InferenceAbortedError);
    expect(gate.queued).toBe(0);
    held.release(1);
    expect(gate.inFlight).toBe(0);
  });

  it("says when it is idle: after the last request in service and the last one waiting are done", async () => {
    const gate = new AdmissionGate("m", { concurrency: 1, maxQueue: 1, queueTimeoutMs: 60_000 });
    await gate.whenIdle();
    const held = await gate.acquire();
    const waiting = gate.acquire();
    let idle = false;
    const told = gate.whenIdle().then(() => (idle = true));
    held.release(1);
    const next = await waiting;
    await Promise.resolve();
    expect(idle).toBe(false);
    next.release(1);
    await told;
    expect(gate.inFlight + gate.queued).toBe(0);
  });

  it("counts a double release once", async () => {
    const gate = new AdmissionGate("m", { concurrency: 1, maxQueue: 0, queueTimeoutMs: 60_000 });
    const held = await gate.acquire();
    held.release(1);
    held.release(1);
    expect(gate.inFlight).toBe(0);
  });
});
