import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectPii } from "../../src/redaction/index.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { policyDirWith } from "../support/policies.js";

/**
 * Names a caller chooses — a task label (`atomic_task`), a schema's name in the registry, a label field's property
 * name — are kept as they are: in execution rows (task classes, adaptation records, which erasure keeps) and in audit
 * events that are never rewritten. One that spells an IBAN or a card number is refused, or not used, so that it is
 * stored nowhere; names that do not read as PII keep working.
 */
let gw: TestGateway;
let key: string;

const IBAN = "FR1420041010050500013M02606";
const CARD = "4929804463622139";
const auth = () => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  for (const value of [IBAN, CARD]) expect(detectPii(value)).toHaveLength(1);
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "vault", options: { seed: 11 }, capabilities: ["chat", "completion"] },
      { id: "open", options: { seed: 12 }, capabilities: ["chat", "completion"] },
    ]),
    policy: {
      dir: policyDirWith({
        defaults: { tenantClassification: "internal", model: { clearance: "internal", allowedTenants: "*", acceptsPii: false } },
        tenants: {},
        models: { vault: { clearance: "secret", allowedTenants: "*", acceptsPii: true } },
      }),
    },
  });
  key = await gw.issueKey("ward-9", ["infer", "tasks"]);
});
afterAll(async () => gw?.close());

/** Every place a name could be kept: the tables (as pg_dump would show them) and the audit log. */
async function keptAnywhere(values: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: gw.databaseUrl });
  await client.connect();
  try {
    const tables = ["executions", "schemas", "audit_queue", "bidding_decisions", "adaptation_rated_examples", "adaptation_learner_state"];
    const rows = await Promise.all(tables.map(async (table) => JSON.stringify((await client.query(`SELECT * FROM ${table}`)).rows)));
    const log = JSON.stringify(await auditEvents(gw.databaseUrl));
    const haystack = [...rows, log].join("\n").toLowerCase();
    return values.filter((value) => haystack.includes(value.toLowerCase()));
  } finally {
    await client.end();
  }
}

describe("names a caller chooses, kept as they are, may not hold PII", () => {
  it("refuses a task label that reads as PII on every route that takes one, and runs nothing", async () => {
    const requests: Array<[string, Record<string, unknown>]> = [
      ["/v1/chat/completions", { model: "open", max_tokens: 2, messages: [{ role: "user", content: "hello" }] }],
      ["/v1/completions", { model: "open", max_tokens: 2, prompt: "hello" }],
      ["/v1/responses", { model: "open", max_output_tokens: 2, input: "hello" }],
      ["/v1/tasks", { model: "open", max_tokens: 2, input: "hello" }],
    ];
    for (const [path, body] of requests) {
      for (const label of [IBAN, `card-${CARD}`, `x.${CARD.slice(0, 8)}-${CARD.slice(8)}`]) {
        const response = await gw.post(path, { ...body, atomic_task: label }, auth());
        expect(response.status, `${path} ${label}`).toBe(400);
        expect((await response.json()).error).toMatchObject({ code: "invalid_parameter", param: "atomic_task", message: expect.stringContaining("reads as personal data") });
      }
    }
    expect(await keptAnywhere([IBAN, CARD])).toEqual([]);
    // A label that is a name, digits and all, is taken.
    const named = await gw.post("/v1/chat/completions", { ...requests[0]![1], atomic_task: "triage-2026.v3" }, auth());
    expect(named.status).toBe(200);
  });

  it("refuses to register a schema whose name reads as PII, and records nothing of it", async () => {
    const schema = { type: "object", properties: { label: { type: "string", enum: ["a", "b"] } }, required: ["label"] };
    const refused = await gw.post("/v1/schemas", { name: `acct-${IBAN}`, schema }, auth());
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({ code: "invalid_parameter", param: "name" });
    expect(await keptAnywhere([IBAN])).toEqual([]);
    expect((await gw.post("/v1/schemas", { name: "ticket-labels", schema }, auth())).status).toBe(201);
  });

  it("does not take a property named by a card number as the answer's label field, even for a model shown it raw", async () => {
    const schema = (field: string) => ({ type: "object", properties: { [field]: { type: "string", enum: ["yes", "no"] } }, required: [field] });
    const ask = (field: string) => gw.post("/v1/chat/completions", {
      model: "vault", messages: [{ role: "user", content: "classify" }],
      response_format: { type: "json_schema", json_schema: { name: "verdict", schema: schema(field) } },
    }, auth());
    const labelFieldOf = async (response: Response) => {
      const client = new pg.Client({ connectionString: gw.databaseUrl });
      await client.connect();
      try {
        const row = await client.query("SELECT parameters FROM executions WHERE id = $1", [response.headers.get("x-atomic-execution-id")]);
        return row.rows[0]?.parameters?.adaptation?.labelField ?? null;
      } finally {
        await client.end();
      }
    };
    const card = await ask(CARD);
    expect(card.status).toBe(200);
    expect(await labelFieldOf(card)).toBeNull();
    expect(await keptAnywhere([CARD])).toEqual([]);
    // The same schema with a plain name has its label field.
    const plain = await ask("verdict");
    expect(plain.status).toBe(200);
    expect(await labelFieldOf(plain)).toBe("verdict");
  });
});
