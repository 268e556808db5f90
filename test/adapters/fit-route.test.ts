import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { auditEvents } from "../support/audit-events.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { colourItems, LABELS, waitForFit, waitForServedAdapter } from "./colour-labels.js";

/**
 * Fitting at inference time through the gateway: a tenant's executions of a task class are rated with the right
 * label (POST /v1/feedback `correction`), an operator fits an adapter from them (POST /v1/admin/adaptation/fits),
 * and the class's requests then run with it — for that tenant only, and only at or above the classification of the
 * data it was fitted on. The task (the colour word in a text names the label) is one a random-weight model cannot do
 * and can be fitted to.
 */
/** The colour items as completion prompts. */
const items = (count: number, seed: number) => colourItems(count, seed).map(({ text, label }) => ({ prompt: text, label }));

let gw: TestGateway;
let ward7: string;
let ward7Admin: string;
let ward8: string;
let ward8Admin: string;

beforeAll(async () => {
  const policyDir = internalPolicyDir();
  gw = await startTestGateway({ models: writeTestModels([{ id: "gen" }]), policy: { dir: policyDir } });
  ward7 = await gw.issueKey("ward-7", ["infer", "tasks"]);
  ward7Admin = await gw.issueKey("ward-7", ["admin"]);
  ward8 = await gw.issueKey("ward-8", ["infer", "tasks"]);
  ward8Admin = await gw.issueKey("ward-8", ["admin"]);
}, 120_000);
afterAll(async () => gw?.close());

const as = (key: string, classification?: string) => ({ authorization: `Bearer ${key}`, ...(classification ? { "x-atomic-data-classification": classification } : {}) });

async function complete(key: string, prompt: string, classification?: string) {
  const response = await gw.post("/v1/completions", { model: "gen", prompt, max_tokens: 2, temperature: 0, atomic_task: "colour" }, as(key, classification));
  expect(response.status).toBe(200);
  return { id: response.headers.get("x-atomic-execution-id")!, text: (await response.json()).choices[0].text as string };
}

async function adapterOf(key: string, id: string): Promise<string | null> {
  const stored = await (await gw.fetch(`/v1/executions/${id}`, { headers: as(key) })).json();
  return stored.parameters.adaptation?.adapter?.id ?? null;
}


describe("fitting an adapter from a tenant's rated executions", () => {
  it("refuses a fit without enough rated examples, an unknown model, a caller without the admin scope, and a null correction", async () => {
    const refused = await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:colour" }, as(ward7Admin));
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.code).toBe("fit_too_few_examples");
    const unknownModel = await gw.post("/v1/admin/adaptation/fits", { model: "nope", task_class: "task:colour" }, as(ward7Admin));
    expect(unknownModel.status).toBe(404);
    expect((await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:colour" }, as(ward7))).status).toBe(403);

    const { id } = await complete(ward7, "Text: red\nLabel:");
    const corrected = await gw.post("/v1/feedback", { execution_id: id, score: 0, correction: null }, as(ward7));
    expect(corrected.status).toBe(400);
  });

  it("fits from corrected ratings, promotes on the canary, serves the tenant's class with it, and audits the fit", async () => {
    for (const item of items(45, 1)) {
      const { id } = await complete(ward7, item.prompt);
      const rated = await gw.post("/v1/feedback", { execution_id: id, score: 0, correction: item.label }, as(ward7));
      expect(rated.status).toBe(200);
      expect((await rated.json()).adaptation).toMatchObject({ task_class: "task:colour", corrected: true });
    }
    const started = await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:colour" }, as(ward7Admin));
    expect(started.status).toBe(202);
    const { id, examples } = await started.json();
    expect(examples).toBe(45);
    // Another tenant cannot read the job.
    expect((await gw.fetch(`/v1/admin/adaptation/fits/${id}`, { headers: as(ward8Admin) })).status).toBe(404);
    const job = await waitForFit(gw, ward7Admin, id);
    expect(job).toMatchObject({ status: "succeeded", promoted: true, adapter: { version: 1, classification: "internal" } });
    expect(job.accuracy.candidate).toBeGreaterThan(job.accuracy.base);

    // Sequenced into the log shortly after the fit answers.
    let events: AuditEvent[] = [];
    while (events.length < 2) {
      events = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "adapter.fitted" || e.kind === "adapter.promoted");
      if (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(events.map((e) => e.kind)).toEqual(["adapter.fitted", "adapter.promoted"]);
    expect(events[0]!.detail).toMatchObject({ adapter: job.adapter.id, sha256: job.adapter.sha256, tenant: "ward-7", examples: 45 });

    // Once the gateway follows the manifest, the class's requests run with the adapter, and answer better.
    await waitForServedAdapter(gw, ward7Admin, "task:colour", job.adapter.id);
    const held = items(30, 99);
    const accuracy = async (adaptation: unknown, check: (executionId: string) => Promise<void>) => {
      let correct = 0;
      for (const item of held) {
        const response = await gw.post("/v1/completions", { model: "gen", prompt: item.prompt, max_tokens: 1, temperature: 0, atomic_task: "colour", atomic_adaptation: adaptation }, as(ward7));
        expect(response.status).toBe(200);
        if ((await response.json()).choices[0].text.trim() === item.label) correct++;
        await check(response.headers.get("x-atomic-execution-id")!);
      }
      return correct / held.length;
    };
    const base = await accuracy("off", async (executionId) => expect(await adapterOf(ward7, executionId)).toBeNull());
    const adapted = await accuracy({ strategies: ["adapter"] }, async (executionId) => expect(await adapterOf(ward7, executionId)).toBe(job.adapter.id));
    // Free text, one token: the generated model's base answer is never the label; the adapter makes it so for many.
    expect(adapted - base).toBeGreaterThanOrEqual(0.3);
    // The labels strategy holds the free-text answer to the labels the adapter was fitted on: every answer is one.
    const labelled = await accuracy({ strategies: ["adapter", "labels"] }, async (executionId) => {
      const stored = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: as(ward7) })).json();
      expect(stored.parameters.adaptation.strategies).toEqual(["adapter", "labels"]);
      expect(LABELS).toContain(stored.output);
    });
    expect(labelled).toBeGreaterThanOrEqual(adapted);
    // Without a temperature of the caller's, the most probable label is taken: the strategy sets greedy decoding.
    const unset = await gw.post("/v1/completions", { model: "gen", prompt: held[0]!.prompt, max_tokens: 1, atomic_task: "colour", atomic_adaptation: { strategies: ["labels"] } }, as(ward7));
    const record = (await (await gw.fetch(`/v1/executions/${unset.headers.get("x-atomic-execution-id")}`, { headers: as(ward7) })).json()).parameters.adaptation;
    expect(record).toMatchObject({ strategies: ["labels"], sources: { temperature: "strategy" } });
  }, 300_000);

  it("never serves a tenant's fitted adapter to another tenant, nor to a request below its data's classification", async () => {
    const forced = { atomic_adaptation: { strategies: ["adapter"] } };
    const other = await gw.post("/v1/completions", { model: "gen", prompt: "Text: red\nLabel:", max_tokens: 2, atomic_task: "colour", ...forced }, as(ward8));
    expect(await adapterOf(ward8, other.headers.get("x-atomic-execution-id")!)).toBeNull();
    const lower = await gw.post("/v1/completions", { model: "gen", prompt: "Text: red\nLabel:", max_tokens: 2, atomic_task: "colour", ...forced }, as(ward7, "public"));
    expect(lower.status).toBe(200);
    expect(await adapterOf(ward7, lower.headers.get("x-atomic-execution-id")!)).toBeNull();
    const higher = await gw.post("/v1/completions", { model: "gen", prompt: "Text: red\nLabel:", max_tokens: 2, atomic_task: "colour", ...forced }, as(ward7, "confidential"));
    expect(await adapterOf(ward7, higher.headers.get("x-atomic-execution-id")!)).not.toBeNull();
  });
});
