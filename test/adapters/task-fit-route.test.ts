import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { fitInputOf } from "../../src/adaptation/adapters/fit-jobs.js";
import { loadManifest } from "../../src/models/manifest.js";
import { auditEvents } from "../support/audit-events.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { colourItems, COLOUR_SCHEMA as SCHEMA, LABELS, waitForFit, waitForServedAdapter } from "./colour-labels.js";

/**
 * Synchronous tasks (POST /v1/tasks) as fitting examples of their class, as chat and completion executions are:
 * a structured task's label is its schema's one string-enum field, fitted where that field's value begins; a plain
 * task's answer is the label, fitted at its first position. A fit rebuilds the prompt the task ran with — its
 * instructions (or the default ones), its input and the schema shown in the system message — from the stored
 * execution: the schema as shown is kept with the stored input for an inline schema, and read from the registry for
 * a registered one. The colour word in a text names the label (a random-weight model cannot do it and can be fitted
 * to), as in fit-route.test.ts and structured-fit-route.test.ts.
 */
const INSTRUCTIONS = "Label the text by its colour word.";
/** Plain tasks of their own class are fitted automatically, at this many ratings (the structured class gets fewer). */
const AUTO_FIT_AT = 48;


let models: TestModels;
let gw: TestGateway;
let key: string;
let admin: string;

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  gw = await startTestGateway({ models, policy: { dir: internalPolicyDir() }, adaptation: { autoFit: { enabled: true, minExamples: AUTO_FIT_AT } } });
  key = await gw.issueKey("ward-5", ["tasks", "infer"]);
  admin = await gw.issueKey("ward-5", ["admin"]);
  const registered = await gw.post("/v1/schemas", { name: "colour", version: 1, schema: SCHEMA }, as(key));
  expect(registered.status).toBe(201);
}, 120_000);
afterAll(async () => gw?.close());

const as = (k: string) => ({ authorization: `Bearer ${k}` });

/** Three ways to give a structured task, in turn: an inline schema, the registered one, an inline one without instructions. */
type Form = "inline" | "registered" | "default-instructions";
const FORMS: Form[] = ["inline", "registered", "default-instructions"];

async function task(text: string, options: { form?: Form; plain?: boolean; adaptation?: unknown } = {}) {
  const form = options.form ?? "inline";
  const response = await gw.post("/v1/tasks", {
    model: "gen",
    input: text,
    temperature: 0,
    ...(options.plain
      ? { instructions: "Answer with the label only.", max_tokens: 1, atomic_task: "colour-plain" }
      : { atomic_task: "colour", schema: form === "registered" ? { name: "colour", version: 1 } : { inline: SCHEMA }, ...(form === "default-instructions" ? {} : { instructions: INSTRUCTIONS }) }),
    ...(options.adaptation === undefined ? {} : { atomic_adaptation: options.adaptation }),
  }, as(key));
  expect(response.status).toBe(200);
  const body = await response.json();
  const stored = await (await gw.fetch(`/v1/executions/${body.id}`, { headers: as(key) })).json();
  return { id: body.id as string, result: body.result as unknown, stored, record: stored.parameters.adaptation as Record<string, any> };
}

/**
 * The prompt a fit rebuilds from the stored execution, run as a chat request under the same schema: the model reads
 * as many tokens as it did for the task and, greedy and unadapted, answers exactly as it did.
 */
async function asChat(stored: Record<string, any>): Promise<{ promptTokens: number; answer: unknown }> {
  const input = fitInputOf({ endpoint: stored.endpoint, input: stored.input, grammar: stored.parameters.grammar, ...(stored.schema === null ? {} : { registeredSchema: SCHEMA }) });
  expect(input?.kind).toBe("chat");
  const response = await gw.post("/v1/chat/completions", {
    model: "gen",
    messages: input?.kind === "chat" ? input.messages : [],
    temperature: 0,
    response_format: { type: "json_schema", json_schema: { name: "colour", schema: SCHEMA } },
    atomic_adaptation: "off",
  }, as(key));
  expect(response.status).toBe(200);
  const body = await response.json();
  return { promptTokens: body.usage.prompt_tokens, answer: JSON.parse(body.choices[0].message.content) };
}


describe("fitting a task class from rated synchronous tasks", () => {
  let adapterId: string;

  it("stores what rebuilds each task's prompt, and an operator's fit reads every rated task of the class", async () => {
    for (const [i, item] of colourItems(45, 1).entries()) {
      const form = FORMS[i % FORMS.length]!;
      const { id, result, stored, record } = await task(item.text, { form });
      expect(record).toMatchObject({ taskClass: "task:colour", labelField: "label" });
      // The schema as shown is kept with the input where the registry cannot say what it was.
      if (form === "registered") {
        expect(stored.input).toEqual({ input: item.text, instructions: INSTRUCTIONS });
        expect(stored.schema).toEqual({ name: "colour", version: 1 });
      } else {
        expect(stored.input).toEqual({ input: item.text, instructions: form === "inline" ? INSTRUCTIONS : null, schema: SCHEMA });
      }
      // The rebuilt prompt is the one the model read (while the class is cold nothing else is added to it).
      if (i < FORMS.length) {
        expect(record.strategies).toEqual([]);
        expect(await asChat(stored)).toEqual({ promptTokens: stored.usage.prompt_tokens, answer: result });
      }
      const answer = result as Record<string, unknown>;
      const correction = i % 2 === 0 ? { ...answer, label: item.label } : item.label;
      const rated = await gw.post("/v1/feedback", { execution_id: id, score: answer.label === item.label ? 1 : 0, correction }, as(key));
      expect(rated.status).toBe(200);
      expect((await rated.json()).adaptation).toMatchObject({ task_class: "task:colour", corrected: true });
    }
    const started = await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:colour" }, as(admin));
    expect(started.status).toBe(202);
    const job = await waitForFit(gw, admin, (await started.json()).id);
    expect(job).toMatchObject({ status: "succeeded", promoted: true, examples: 45, counts: { skipped: 0 } });
    expect(job.accuracy.candidate).toBeGreaterThan(job.accuracy.base);
    adapterId = job.adapter.id;
    const entry = loadManifest(models.manifestPath).adapters?.find((a) => a.id === adapterId);
    expect(entry).toMatchObject({ taskClass: "task:colour", tenant: "ward-5", fit: { labels: LABELS, labelField: "label" } });
  }, 300_000);

  it("serves the adapter to later tasks of the class, which then label held-out texts better", async () => {
    await waitForServedAdapter(gw, admin, "task:colour", adapterId);
    const held = colourItems(30, 99);
    const accuracy = async (adaptation: unknown, adapter: string | null) => {
      let correct = 0;
      for (const [i, item] of held.entries()) {
        const { result, record } = await task(item.text, { form: FORMS[i % FORMS.length]!, adaptation });
        expect(record.adapter?.id ?? null).toBe(adapter);
        if ((result as Record<string, unknown>).label === item.label) correct++;
      }
      return correct / held.length;
    };
    const base = await accuracy("off", null);
    const adapted = await accuracy({ strategies: ["adapter"] }, adapterId);
    expect(adapted - base).toBeGreaterThanOrEqual(0.3);
  }, 300_000);

  it("fits a plain task class automatically from its ratings, at the answer's first position, and serves it", async () => {
    for (const item of colourItems(AUTO_FIT_AT, 2)) {
      const { id, stored, record } = await task(item.text, { plain: true });
      expect(record.taskClass).toBe("task:colour-plain");
      expect(record.labelField).toBeUndefined();
      expect(stored.input).toEqual({ input: item.text, instructions: "Answer with the label only." });
      const rated = await gw.post("/v1/feedback", { execution_id: id, score: 0, correction: item.label }, as(key));
      expect(rated.status).toBe(200);
    }
    let events: AuditEvent[] = [];
    for (let waited = 0; events.length === 0 && waited < 120_000; waited += 200) {
      await gw.gateway.audit.sequencer.drain();
      events = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "adapter.promoted" && (e.detail as { taskClass?: string }).taskClass === "task:colour-plain");
      if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(events).toHaveLength(1);
    expect(events[0]!.actor).toMatchObject({ subject: "atomic:auto-fit", tenant: "ward-5" });
    const plainAdapter = (events[0]!.detail as { adapter: string }).adapter;
    const entry = loadManifest(models.manifestPath).adapters?.find((a) => a.id === plainAdapter);
    expect(entry?.fit?.labelField).toBeUndefined();

    await waitForServedAdapter(gw, admin, "task:colour-plain", plainAdapter);
    const held = colourItems(30, 98);
    const accuracy = async (adaptation: unknown, adapter: string | null) => {
      let correct = 0;
      for (const item of held) {
        const { result, record } = await task(item.text, { plain: true, adaptation });
        expect(record.adapter?.id ?? null).toBe(adapter);
        if (typeof result === "string" && result.trim() === item.label) correct++;
      }
      return correct / held.length;
    };
    const base = await accuracy("off", null);
    const adapted = await accuracy({ strategies: ["adapter"] }, plainAdapter);
    expect(adapted - base).toBeGreaterThanOrEqual(0.3);
  }, 300_000);
});
