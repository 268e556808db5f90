import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "one", parallel: 1 }]), inference: { maxQueue: 1, maxTokensLimit: 100_000 } });
});
afterAll(async () => gw?.close());

// Long enough to hold the one sequence while a few requests are sent and checked (milliseconds), no longer.
const long = () => gw.post(`/v1/completions`, { model: "one", prompt: "go", max_tokens: 600, temperature: 1 });

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 2));
}

describe("bounded queue", () => {
  it("answers 503 with Retry-After when every sequence is busy and the queue is full, and serves the rest", async () => {
    const host = gw.gateway.engine.host("one");
    const first = long();
    await until(() => host.status().inFlight === 1);
    const second = long();
    await until(() => host.status().queued === 1);

    const refused = await long();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = await refused.json();
    expect(body.error).toMatchObject({ type: "overloaded_error", code: "model_overloaded" });

    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(host.status()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it("drops a queued request whose client went away", async () => {
    const host = gw.gateway.engine.host("one");
    const first = long();
    await until(() => host.status().inFlight === 1);
    const controller = new AbortController();
    const abandoned = gw.fetch(`/v1/completions`, {
      method: "POST", headers: { "content-type": "application/json" }, signal: controller.signal,
      body: JSON.stringify({ model: "one", prompt: "go", max_tokens: 5 }),
    }).catch((error: Error) => error);
    await until(() => host.status().queued === 1);
    controller.abort();
    await until(() => host.status().queued === 0);
    expect(await abandoned).toBeInstanceOf(Error);
    expect((await first).status).toBe(200);
  });
});
