import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest } from "../../src/models/manifest.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { colourItems, COLOUR_SCHEMA as SCHEMA, LABELS, waitForFit, waitForServedAdapter } from "./colour-labels.js";

/**
 * Fitting a class whose answers are structured: the label is the `enum` field of a JSON answer
 * (response_format json_schema), written after the answer's first field. The class's executions are rated (the
 * model's answer corrected, as a whole object or as the label alone), an operator fits without naming the field
 * (the executions' adaptation records name it: the schema's one string-enum property), and the class's structured
 * requests then run with the adapter, every answer still valid against the schema. As in fit-route.test.ts, the
 * colour word in a text names the label: a random-weight model cannot do it and can be fitted to.
 */

/** The schema, checked by hand: exactly its properties, each within its bounds. */
function validAnswer(value: Record<string, unknown>, schema: typeof SCHEMA = SCHEMA): boolean {
  const { count, label, note } = value;
  return Object.keys(value).join() === Object.keys(schema.properties).join()
    && Number.isInteger(count) && (count as number) >= 0 && (count as number) <= 9
    && LABELS.includes(label as string) && typeof note === "string" && note.length <= 4;
}

let models: TestModels;
let gw: TestGateway;
let key: string;
let admin: string;

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  gw = await startTestGateway({ models, policy: { dir: internalPolicyDir() } });
  key = await gw.issueKey("ward-3", ["infer"]);
  admin = await gw.issueKey("ward-3", ["admin"]);
}, 120_000);
afterAll(async () => gw?.close());

const as = (k: string) => ({ authorization: `Bearer ${k}` });

async function ask(text: string, options: { schema?: Record<string, unknown> | null; adaptation?: unknown } = {}) {
  const schema = options.schema === undefined ? SCHEMA : options.schema;
  const response = await gw.post("/v1/chat/completions", {
    model: "gen",
    messages: [{ role: "user", content: text }],
    temperature: 0,
    atomic_task: "colour",
    ...(schema === null ? { max_tokens: 2 } : { response_format: { type: "json_schema", json_schema: { name: "colour", schema } } }),
    ...(options.adaptation === undefined ? {} : { atomic_adaptation: options.adaptation }),
  }, as(key));
  expect(response.status).toBe(200);
  const id = response.headers.get("x-atomic-execution-id")!;
  const content = (await response.json()).choices[0].message.content as string;
  const stored = await (await gw.fetch(`/v1/executions/${id}`, { headers: as(key) })).json();
  return { id, content, record: stored.parameters.adaptation as Record<string, any> };
}


describe("fitting a class whose label is a field of a structured answer", () => {
  let adapterId: string;

  it("records the answer's label field, fits where its value begins, and pins the field with the adapter", async () => {
    for (const [i, item] of colourItems(45, 1).entries()) {
      const { id, content, record } = await ask(item.text);
      expect(record.labelField).toBe("label");
      const answer = JSON.parse(content) as Record<string, unknown>;
      expect(validAnswer(answer)).toBe(true);
      // Raters correct the whole answer, or give the label alone.
      const correction = i % 2 === 0 ? { ...answer, label: item.label } : item.label;
      const rated = await gw.post("/v1/feedback", { execution_id: id, score: answer.label === item.label ? 1 : 0, correction }, as(key));
      expect(rated.status).toBe(200);
    }
    const started = await gw.post("/v1/admin/adaptation/fits", { model: "gen", task_class: "task:colour" }, as(admin));
    expect(started.status).toBe(202);
    const job = await waitForFit(gw, admin, (await started.json()).id);
    expect(job).toMatchObject({ status: "succeeded", promoted: true, examples: 45, counts: { skipped: 0 } });
    expect(job.accuracy.candidate).toBeGreaterThan(job.accuracy.base);
    adapterId = job.adapter.id;
    const entry = loadManifest(models.manifestPath).adapters?.find((a) => a.id === adapterId);
    expect(entry?.fit).toMatchObject({ labels: LABELS, labelField: "label" });
  }, 300_000);

  it("serves the adapter to the class's structured requests, which then answer better and always within the schema", async () => {
    await waitForServedAdapter(gw, admin, "task:colour", adapterId);
    const held = colourItems(30, 99);
    const accuracy = async (adaptation: unknown, adapter: string | null) => {
      let correct = 0;
      for (const item of held) {
        const { content, record } = await ask(item.text, { adaptation });
        expect(record.adapter?.id ?? null).toBe(adapter);
        const answer = JSON.parse(content) as Record<string, unknown>;
        expect(validAnswer(answer)).toBe(true);
        if (answer.label === item.label) correct++;
      }
      return correct / held.length;
    };
    const base = await accuracy("off", null);
    const adapted = await accuracy({ strategies: ["adapter"] }, adapterId);
    expect(adapted - base).toBeGreaterThanOrEqual(0.3);
  }, 300_000);

  it("does not serve it where the answer has no such field: plain answers, another field, labels the enum lacks", async () => {
    const forced = { strategies: ["adapter", "labels"] };
    const plain = await ask(colourItems(1, 5)[0]!.text, { schema: null, adaptation: forced });
    expect(plain.record).toMatchObject({ adapter: null, strategies: [] });
    const renamed = { ...SCHEMA, properties: { colour: SCHEMA.properties.label, note: SCHEMA.properties.note }, required: ["colour", "note"] };
    expect((await ask(colourItems(1, 6)[0]!.text, { schema: renamed, adaptation: forced })).record).toMatchObject({ labelField: "colour", adapter: null });
    const fewer = { ...SCHEMA, properties: { ...SCHEMA.properties, label: { type: "string", enum: ["x", "y"] } } };
    expect((await ask(colourItems(1, 7)[0]!.text, { schema: fewer, adaptation: forced })).record).toMatchObject({ labelField: "label", adapter: null });
  }, 120_000);
});
