import { setTimeout as delay } from "node:timers/promises";

/**
 * Polls `predicate` every `everyMs` until it holds; throws after `ms`, naming it. For changes other processes make
 * in their own time (a refresh interval, a drain): the timeout bounds a hang, it asserts nothing about speed.
 */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 30_000, everyMs = 50): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${predicate.toString()}`);
    await delay(everyMs);
  }
}
