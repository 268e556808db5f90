import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitInputOf } from "../../src/adaptation/adapters/fit-jobs.js";
import { addAdapter } from "../../src/models/adapters/add-adapter.js";
import { loadManifest, saveManifest } from "../../src/models/manifest.js";
import { submitTask } from "../../src/orchestration/client.js";
import { EncryptionCodec } from "../../src/orchestration/payload-codec.js";
import type { TaskInput } from "../../src/orchestration/types.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { asciiToken, tokenAdapter } from "../support/adapters.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { internalPolicyDir } from "../support/policies.js";
import { sharedTemporal } from "../support/temporal.js";
import { colourItems, waitForFit } from "../adapters/colour-labels.js";

/**
 * Asynchronous tasks adapted as synchronous ones are: the gateway carries the task's label, adaptation choice and
 * the policy decision that cleared it (its classification) into the workflow, and the gateway's own worker runs each
 * microtask through its adaptation — exemplars and adapters of the task's tenant only, at or below its
 * classification. A rated microtask execution is an example of its class like any other. A workflow started without
 * that field (a task submitted before it existed) runs unadapted.
 */
let models: TestModels;
let gw: TestGateway;
let ward: string;
let wardAdmin: string;
let other: string;
const CLASSIFICATION = "x-atomic-data-classification";

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  // ward-5's adapter for task:zeds, fitted (as it were) on confidential data: it makes "Z" certain.
  const file = join(models.dir, "zeds.gguf");
  writeFileSync(file, tokenAdapter(asciiToken("Z"), 8));
  const { entry } = await addAdapter({ manifestPath: models.manifestPath, file, baseModel: { id: "gen", path: models.pathOf("gen") }, taskClass: "task:zeds" });
  const manifest = loadManifest(models.manifestPath);
  saveManifest(models.manifestPath, { ...manifest, adapters: manifest.adapters!.map((a) => (a.id === entry.id ? { ...a, tenant: "ward-5", classification: "confidential" as const } : a)) });
  const { address, namespace } = sharedTemporal("atomic-test-task-adaptation");
  gw = await startTestGateway({ models, policy: { dir: internalPolicyDir() }, temporal: { address, namespace, hostId: "task-adaptation-test" } });
  ward = await gw.issueKey("ward-5", ["tasks", "infer"]);
  wardAdmin = await gw.issueKey("ward-5", ["admin"]);
  other = await gw.issueKey("other", ["tasks", "infer"]);
}, 120_000);
afterAll(async () => gw?.close());

const headers = (key: string, classification = "internal") => ({ authorization: `Bearer ${key}`, [CLASSIFICATION]: classification });
const INSTRUCTIONS = "Answer with the label only.";

async function execution(key: string, id: string): Promise<Record<string, any>> {
  const response = await gw.fetch(`/v1/executions/${id}`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return response.json();
}

/** A synchronous task of the class, rated with the right label as its correction: an exemplar candidate. */
async function ratedSyncTask(key: string, classification: string, text: string, label: string): Promise<string> {
  const response = await gw.post("/v1/tasks", { model: "gen", input: text, instructions: INSTRUCTIONS, max_tokens: 2, temperature: 0, atomic_task: "colour" }, headers(key, classification));
  expect(response.status).toBe(200);
  const { id } = await response.json();
  const rated = await gw.post("/v1/feedback", { execution_id: id, score: 1, correction: label }, headers(key));
  expect(rated.status).toBe(200);
  return id;
}

/** An asynchronous task on the named model, run to its end: its one microtask's stored execution and the result. */
async function asyncTask(key: string, classification: string, body: Record<string, unknown>): Promise<{ taskId: string; result: unknown; microtask: Record<string, any> }> {
  const submitted = await gw.post("/v1/tasks", { model: "gen", mode: "async", instructions: INSTRUCTIONS, max_tokens: 4, temperature: 0, ...body }, headers(key, classification));
  expect(submitted.status).toBe(202);
  const { id } = await submitted.json();
  for (;;) {
    const task = await (await gw.fetch(`/v1/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } })).json();
    if (task.status !== "running") {
      expect(task.status).toBe("succeeded");
      return { taskId: id, result: task.result, microtask: await execution(key, task.microtasks[0].executionId) };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("adaptation of asynchronous tasks", () => {
  let wardInternal: string;
  let wardConfidential: string;
  let otherInternal: string;
  let rated: string;

  it("runs each microtask under its task's class and classification, and a rated microtask is an example of the class", async () => {
    const { taskId, microtask } = await asyncTask(ward, "confidential", { input: "Text: the red cat\nLabel:", atomic_task: "colour" });
    expect(microtask.endpoint).toBe("tasks");
    expect(microtask.parameters.adaptation).toMatchObject({ taskClass: "task:colour" });
    // The decision that cleared the task at submission is the microtask's: its classification, not one assumed.
    expect(microtask.parameters.policy).toMatchObject({ decision: "allow", classification: "confidential", redacted: false });
    // What a fit reads of it is the chat the microtask ran as (nothing was added to it: the class is cold).
    expect(microtask.parameters.adaptation.strategies).toEqual([]);
    expect(microtask.input).toMatchObject({ task: taskId, microtask: "task", attempt: 1 });
    const input = fitInputOf({ endpoint: microtask.endpoint, input: microtask.input, grammar: microtask.parameters.grammar });
    expect(input).toEqual(microtask.input.input);
    expect(input).toEqual({ kind: "chat", messages: [{ role: "system", content: INSTRUCTIONS }, { role: "user", content: "Text: the red cat\nLabel:" }] });
    // Rated like a synchronous task: a correction teaches adaptation the class's right answer.
    const feedback = await gw.post("/v1/feedback", { execution_id: microtask.id, score: 1, correction: "x" }, headers(ward));
    expect(feedback.status).toBe(200);
    expect((await feedback.json()).adaptation).toMatchObject({ task_class: "task:colour", corrected: true });
    rated = microtask.id;
  });

  it("shows an asynchronous task exemplars of its own tenant at or below its classification only", async () => {
    wardInternal = await ratedSyncTask(ward, "internal", "Text: a blue dog\nLabel:", "y");
    wardConfidential = await ratedSyncTask(ward, "confidential", "Text: the green mat\nLabel:", "z");
    otherInternal = await ratedSyncTask(other, "internal", "Text: a red mat\nLabel:", "x");
    const exemplars = { atomic_task: "colour", atomic_adaptation: { strategies: ["exemplars"] } };

    const internal = await asyncTask(ward, "internal", { input: "Text: a red dog\nLabel:", ...exemplars });
    expect(internal.microtask.parameters.policy.classification).toBe("internal");
    // The confidential rated microtask and confidential task are above it; the other tenant's is not ward-5's.
    expect([...internal.microtask.parameters.adaptation.exemplars].sort()).toEqual([wardInternal]);

    const confidential = await asyncTask(ward, "confidential", { input: "Text: a red dog\nLabel:", ...exemplars });
    expect([...confidential.microtask.parameters.adaptation.exemplars].sort()).toEqual([rated, wardInternal, wardConfidential].sort());
    expect(confidential.microtask.parameters.adaptation.strategies).toContain("exemplars");
    // The stored input is the task's own (what a fit reads); the model read the exemplars too.
    expect(confidential.microtask.usage.prompt_tokens).toBeGreaterThan(internal.microtask.usage.prompt_tokens);

    const foreign = await asyncTask(other, "secret", { input: "Text: a red dog\nLabel:", ...exemplars });
    expect(foreign.microtask.parameters.adaptation.exemplars).toEqual([otherInternal]);
  });

  it("applies the tenant's adapter for the class at or above the classification it was fitted at, never below or for another tenant", async () => {
    const zeds = { input: "Text: the cat\nLabel:", atomic_task: "zeds", atomic_adaptation: { strategies: ["adapter"] } };
    const applied = await asyncTask(ward, "confidential", zeds);
    expect(applied.result).toBe("ZZZZ");
    expect(applied.microtask.parameters.adaptation).toMatchObject({ taskClass: "task:zeds", adapter: { id: "gen.task-zeds.v1" } });

    for (const [key, classification] of [[ward, "internal"], [other, "secret"]] as const) {
      const refused = await asyncTask(key, classification, zeds);
      expect(refused.microtask.parameters.adaptation).toMatchObject({ taskClass: "task:zeds", adapter: null });
      expect(refused.result).not.toBe("ZZZZ");
    }
  });

  it("fits an adapter from rated asynchronous tasks, their prompts rebuilt from the microtasks' stored inputs", async () => {
    const items = colourItems(12, 3);
    for (const item of items) {
      const { microtask } = await asyncTask(ward, "internal", { input: item.text, max_tokens: 1, atomic_task: "hue" });
      const rated = await gw.post("/v1/feedback", { execution_id: microtask.id, score: 0, correction: item.label }, headers(ward));
      expect((await rated.json()).adaptation).toMatchObject({ task_class: "task:hue", corrected: true });
    }
    const started = await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:hue" }, { authorization: `Bearer ${wardAdmin}` });
    expect(started.status).toBe(202);
    const job = await waitForFit(gw, wardAdmin, (await started.json()).id);
    // Every rated microtask was read as an example: none skipped for an input the fit could not rebuild.
    expect(job).toMatchObject({ status: "succeeded", examples: items.length, counts: { skipped: 0 } });
    const entry = loadManifest(models.manifestPath).adapters?.find((a) => a.id === job.adapter.id);
    expect(entry).toMatchObject({ taskClass: "task:hue", tenant: "ward-5", classification: "internal" });
  });

  it("runs a microtask of a workflow started without the field (a task from before it) unadapted", async () => {
    const { address, namespace } = sharedTemporal("atomic-test-task-adaptation");
    const connection = await Connection.connect({ address });
    try {
      const codec = new EncryptionCodec(readFileSync(join(gw.dataDir, "keys", "temporal-payload.key")));
      const client = new Client({ connection, namespace, dataConverter: { payloadCodecs: [codec] } });
      const input: TaskInput = {
        taskId: uuidv7(),
        requestId: "old-task",
        actor: { subject: "apikey:old", tenant: "ward-5", tokenIdHash: "old" },
        microtasks: [{ id: "task", model: "gen", input: { kind: "chat", messages: [{ role: "system", content: INSTRUCTIONS }, { role: "user", content: "Text: the cat\nLabel:" }] }, dependsOn: [], options: { maxTokens: 4, temperature: 0 } }],
      };
      const result = await (await submitTask(client, input)).result();
      expect(result.status).toBe("succeeded");
      const microtask = await execution(ward, result.microtasks[0]!.executionId!);
      expect(microtask.parameters.adaptation).toBeUndefined();
      expect(microtask.parameters.policy).toBeUndefined();
      expect(result.result).not.toBe("ZZZZ");
    } finally {
      await connection.close();
    }
  });
});
