import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * A model pinned while the gateway runs serves asynchronous tasks too: the gateway's Temporal worker advertises what
 * it serves now in the host directory, where a task's workflow looks for a host of its model.
 */
let gw: TestGateway;
let models: TestModels;

beforeAll(async () => {
  models = writeTestModels([{ id: "first" }]);
  const { address, namespace } = sharedTemporal("atomic-test-live-pins");
  gw = await startTestGateway({ models, temporal: { address, namespace, hostId: "gateway-live-pins-test" } });
});
afterAll(async () => gw?.close());

type Task = { id: string; status: string; microtasks?: Array<{ model: string; status: string }> };

async function finished(id: string): Promise<Task> {
  for (;;) {
    const task = (await (await gw.fetch(`/v1/tasks/${id}`)).json()) as Task;
    if (task.status !== "running") return task;
    await delay(100);
  }
}

describe("a model pinned at run time", () => {
  it("runs an asynchronous task once loaded, through the gateway's own worker", async () => {
    const bytes = buildTestModel({ seed: 9 });
    writeFileSync(join(models.dir, "later.gguf"), bytes);
    saveManifest(models.manifestPath, {
      version: 1,
      models: [...models.entries, { ...models.entries[0]!, id: "later", file: "later.gguf", sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length }],
    });
    // The gateway's own watcher (a look every second) may find the new pin before this reload does: either way, once
    // the reload has answered, the model is served.
    expect((await gw.post("/v1/admin/models/reload", {})).status).toBe(200);
    expect((await gw.fetch("/v1/models/later")).status).toBe(200);
    for (let state = ""; state !== "ready"; await delay(100)) state = (await (await gw.fetch("/v1/models/later")).json()).atomic.state;

    const submitted = await gw.post("/v1/tasks", { model: "later", input: "Say hello.", mode: "async", max_tokens: 4 });
    expect(submitted.status).toBe(202);
    const task = await finished((await submitted.json()).id);
    expect(task.status).toBe("succeeded");
    expect(task.microtasks).toEqual([expect.objectContaining({ model: "later", status: "succeeded" })]);
  });
});
