import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectPii, PII_KINDS, type PiiKind } from "../../src/redaction/index.js";
import { GENERATORS } from "../../src/redaction/samples.js";
import { policyDirWith } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { seededRng, type Rng } from "../../src/util/rng.js";
import { loadSigningKey } from "../../src/audit/core/keys.js";
import { exportAudit } from "../../src/audit/store/exporter.js";
import { ENTRIES_FILE } from "../../src/audit/verify/export-format.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { auditEvents } from "../support/audit-events.js";

/**
 * The leak scan after the fact: distinct, checksum-valid PII seeded into every route that takes text, under a
 * policy that sends it raw to a PII-cleared model and one that redacts it — written plainly, encoded to slip past
 * the detectors (full-width, zero-width, percent-encoded), and in what steers a model (a response schema, stop
 * sequences); then every log line the gateway wrote, every row of every table in its database, every entry of the
 * audit log (decoded) and an audit export are searched for the values. None may be there, whatever the model was
 * allowed to see.
 */
let gw: TestGateway;
let key: string;
/** Every value seeded, by the request that carried it. */
const seeded: Array<{ where: string; kind: PiiKind; value: string }> = [];
const rng = seededRng(20_240_606);

beforeAll(async () => {
  const dir = policyDirWith({
    defaults: { tenantClassification: "internal", model: { clearance: "internal", allowedTenants: "*", acceptsPii: false } },
    tenants: {},
    models: {
      vault: { clearance: "secret", allowedTenants: "*", acceptsPii: true },
      "vault-embed": { clearance: "secret", allowedTenants: "*", acceptsPii: true },
    },
  });
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "vault", options: { seed: 11 }, capabilities: ["chat", "completion"] },
      { id: "open", options: { seed: 12 }, capabilities: ["chat", "completion"] },
      { id: "vault-embed", options: { seed: 13 }, capabilities: ["embedding"] },
      { id: "open-embed", options: { seed: 14 }, capabilities: ["embedding"] },
    ]),
    policy: { dir },
  });
  key = await gw.issueKey("ward-9", ["infer", "embed", "tasks"]);
});
afterAll(async () => gw?.close());

/** A value of `kind` that the detector finds as that kind in `frame`; loopback addresses are the gateway's own. */
function valueOf(kind: PiiKind, random: Rng, frame: (value: string) => string): string {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = GENERATORS[kind](random);
    if (kind === "ipv4" && /^(127|0|10)\./.test(value)) continue;
    const text = frame(value);
    const at = text.indexOf(value);
    if (detectPii(text).some((f) => f.kind === kind && f.start === at && f.end === at + value.length)) return value;
  }
  throw new Error(`no detectable ${kind} generated`);
}

/** One of every kind the redactor knows, in a sentence, recorded under `where`. */
function pii(where: string): string {
  const frame = (value: string) => `Re patient record: ${value} (see file).`;
  const parts = PII_KINDS.map((kind) => {
    const value = valueOf(kind, rng, frame);
    seeded.push({ where, kind, value });
    return `${kind.replace(/_/g, " ")} ${value}`;
  });
  const text = `Patient record. ${parts.join("; ")}. Please summarise.`;
  // Every value is found in the very text sent, so every one of them is "detected PII".
  const found = detectPii(text);
  for (const { value } of seeded.filter((s) => s.where === where)) {
    const at = text.indexOf(value);
    expect(found.some((f) => f.start <= at && f.end >= at + value.length), `${where}: ${value}`).toBe(true);
  }
  return text;
}

/**
 * PII written to slip past a detector that reads only ASCII: a full-width card number, an address split by a
 * zero-width space, a percent-encoded address. Each is recorded as sent and as it reads decoded.
 */
function evasions(where: string): string {
  const frame = (value: string) => `Re patient record: ${value} (see file).`;
  const card = valueOf("credit_card", rng, frame);
  const split = valueOf("email", rng, frame);
  const encoded = valueOf("email", rng, frame);
  const sent = [
    { kind: "credit_card" as const, plain: card, written: card.replace(/[0-9 ]/g, (c) => String.fromCharCode(c.charCodeAt(0) + (c === " " ? 0x2fe0 : 0xfee0))) },
    { kind: "email" as const, plain: split, written: split.replace("@", "@\u200b").replace(/\.(?=[^.]*$)/, "\u200b.") },
    { kind: "email" as const, plain: encoded, written: encoded.replace("@", "%40") },
  ];
  for (const { kind, plain, written } of sent) seeded.push({ where, kind, value: written }, { where: `${where} (decoded)`, kind, value: plain });
  const text = `Patient record. ${sent.map(({ written }) => written).join("; ")}. Please summarise.`;
  const found = detectPii(text);
  for (const { written } of sent) {
    const at = text.indexOf(written);
    expect(found.some((f) => f.start <= at && f.end >= at + written.length), `${where}: ${written}`).toBe(true);
  }
  return text;
}

/** A value of `kind` recorded under `where`, for a schema or a stop sequence. */
function seededValue(where: string, kind: PiiKind): string {
  const value = valueOf(kind, rng, (v) => `value ${v} here`);
  seeded.push({ where, kind, value });
  return value;
}

/** Every string in a JSON value, keys included: what a leaf or an export line says once its escapes are read. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([key, item]) => [key, ...strings(item)]);
  return [];
}

const auth = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });

async function ok(response: Response, status = 200): Promise<Response> {
  if (response.status !== status) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return response;
}

/** Forms a value may take once stored: as written, without separators, lower-cased. */
function forms(kind: PiiKind, value: string): string[] {
  const out = new Set([value, value.toLowerCase()]);
  if (kind !== "email" && kind !== "ipv4" && kind !== "ipv6") {
    const compact = value.replace(/[\s().\-/]/g, "");
    if (compact.length >= 8) {
      out.add(compact);
      out.add(compact.toLowerCase());
    }
  }
  return [...out];
}

describe("no detected PII in logs or stored records, on every route that takes text", () => {
  it("sends PII raw to the cleared model and redacted to the other, then finds none of it anywhere", async () => {
    const executions: Array<{ id: string; model: string; raw: boolean }> = [];
    const track = (response: Response, model: string, raw: boolean) => {
      executions.push({ id: response.headers.get("x-atomic-execution-id")!, model, raw });
      return response;
    };

    for (const [model, embedder, raw] of [["vault", "vault-embed", true], ["open", "open-embed", false]] as const) {
      const chat = await ok(await gw.post("/v1/chat/completions", {
        model,
        messages: [{ role: "system", content: pii(`${model} chat system`) }, { role: "user", content: pii(`${model} chat user`) }],
        max_tokens: 8,
        stop: [seeded.find((s) => s.where === `${model} chat user` && s.kind === "email")!.value],
      }, auth()));
      track(chat, model, raw);

      const streamed = await ok(await gw.post("/v1/chat/completions", {
        model, messages: [{ role: "user", content: pii(`${model} chat stream`) }], max_tokens: 8, stream: true,
      }, auth()));
      expect(await streamed.text()).toContain("data: [DONE]");
      track(streamed, model, raw);

      track(await ok(await gw.post("/v1/chat/completions", {
        model,
        messages: [{ role: "user", content: pii(`${model} chat structured`) }],
        response_format: { type: "json_schema", json_schema: { name: "note", schema: { type: "object", properties: { summary: { type: "string", maxLength: 24 } }, required: ["summary"] } } },
      }, auth())), model, raw);

      track(await ok(await gw.post("/v1/completions", { model, prompt: pii(`${model} completion`), max_tokens: 8 }, auth())), model, raw);
      const completionStream = await ok(await gw.post("/v1/completions", { model, prompt: pii(`${model} completion stream`), max_tokens: 8, stream: true }, auth()));
      await completionStream.text();
      track(completionStream, model, raw);

      track(await ok(await gw.post("/v1/embeddings", { model: embedder, input: [pii(`${embedder} embeddings 1`), pii(`${embedder} embeddings 2`)] }, auth())), embedder, raw);

      track(await ok(await gw.post("/v1/chat/completions", { model, messages: [{ role: "user", content: evasions(`${model} chat encoded`) }], max_tokens: 8 }, auth())), model, raw);
      track(await ok(await gw.post("/v1/completions", { model, prompt: evasions(`${model} completion encoded`), max_tokens: 8 }, auth())), model, raw);

      // PII in what steers the model: a response schema (enum, description, property name) and a stop sequence.
      track(await ok(await gw.post("/v1/chat/completions", {
        model,
        messages: [{ role: "user", content: pii(`${model} chat with schema`) }],
        stop: [seededValue(`${model} chat stop`, "phone")],
        response_format: { type: "json_schema", json_schema: { name: "contact", schema: {
          type: "object",
          description: `Card on file ${seededValue(`${model} schema description`, "credit_card")}`,
          properties: { contact: { enum: [seededValue(`${model} schema enum`, "email")] }, [seededValue(`${model} schema property`, "email")]: { type: "integer", minimum: 0, maximum: 9 } },
        } } },
      }, auth())), model, raw);
      track(await ok(await gw.post("/v1/tasks", {
        model,
        input: pii(`${model} task with schema`),
        schema: { inline: { type: "object", properties: { account: { const: seededValue(`${model} task schema const`, "iban") } }, required: ["account"] } },
      }, auth())), model, raw);

      // Tasks: text and JSON input (PII in keys too), instructions, an inline schema.
      const taskKey = valueOf("email", rng, (v) => `key ${v}`);
      seeded.push({ where: `${model} task key`, kind: "email", value: taskKey });
      track(await ok(await gw.post("/v1/tasks", {
        model,
        input: { note: pii(`${model} task input`), [taskKey]: "contact" },
        instructions: pii(`${model} task instructions`),
        schema: { inline: { type: "object", properties: { label: { enum: ["a", "b"] } }, required: ["label"] } },
      }, auth())), model, raw);
      track(await ok(await gw.post("/v1/tasks", { model, input: pii(`${model} task text`), max_tokens: 8 }, auth())), model, raw);

      // A failed execution is stored too: output that can never satisfy its schema within 8 tokens.
      const failed = await ok(await gw.post("/v1/tasks", {
        model, input: pii(`${model} failed task`), max_tokens: 8,
        schema: { inline: { type: "object", properties: { code: { type: "string", pattern: "^Z{40}$" } }, required: ["code"] } },
      }, auth()), 422);
      track(failed, model, raw);
    }

    // A caller's request id that is a card number, a declared purpose, feedback with PII, refusals with PII.
    const cardId = valueOf("credit_card", rng, (v) => v).replace(/[\s-]/g, "");
    seeded.push({ where: "x-request-id", kind: "credit_card", value: cardId });
    const withId = await ok(await gw.post("/v1/chat/completions", { model: "vault", messages: [{ role: "user", content: pii("training chat") }], max_tokens: 4 },
      auth({ "x-request-id": cardId, "x-atomic-purpose": "training" })));
    expect(withId.headers.get("x-request-id")).not.toBe(cardId);
    track(withId, "vault", false);

    const feedback = await ok(await gw.post("/v1/feedback", { execution_id: executions[0]!.id, score: 0.5, comment: pii("feedback comment") }, auth()));
    expect((await feedback.json()).object).toBe("feedback");
    await ok(await gw.post("/v1/chat/completions", { model: "open", messages: [{ role: "user", content: pii("refused secret") }], max_tokens: 4 },
      auth({ "x-atomic-data-classification": "secret" })), 403);
    await ok(await gw.post("/v1/chat/completions", { model: "open", messages: [{ role: "user", content: pii("invalid request") }], tools: [{ note: pii("invalid tools") }] }, auth()), 400);

    // Everything recorded has landed: outcomes tracked (the admin view waits for them), the log sequenced, the
    // learner saved at shutdown.
    await ok(await gw.fetch("/v1/admin/bidding"));
    await gw.gateway.audit.sequencer.drain();
    await gw.gateway.close();

    // The audit log as an auditor gets it: each entry decoded, and an export as `atomic audit export` writes it.
    const auditText = strings(await auditEvents(gw.databaseUrl)).join("\n");
    const exportDir = mkdtempSync(join(tmpdir(), "atomic-leak-export-"));
    const pool = new pg.Pool({ connectionString: gw.databaseUrl, max: 1 });
    let exportText: string;
    try {
      const key = loadSigningKey(join(gw.dataDir, "keys", "audit-signing.pem"), ConfigSchema.parse({}).audit.origin);
      const exported = await exportAudit({ pool, outDir: exportDir, key });
      const entries = readFileSync(join(exportDir, ENTRIES_FILE), "utf8");
      const lines = entries.split("\n").filter((line) => line.length > 0);
      expect(lines.length).toBe(exported.to - exported.from);
      expect(exported.to).toBeGreaterThan(executions.length);
      exportText = [entries, ...lines.flatMap((line) => strings(JSON.parse(line)))].join("\n");
    } finally {
      await pool.end();
    }

    const client = new pg.Client({ connectionString: gw.databaseUrl });
    await client.connect();
    const tables: Record<string, string> = {};
    try {
      const names = await client.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
      for (const { schema, name } of names.rows) {
        const table = `"${schema}"."${name}"`;
        const asText = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t`);
        // bytea columns (the audit log's leaves) read as hex in ::text: search their bytes as text too.
        const asValues = await client.query(`SELECT * FROM ${table}`);
        const decoded = asValues.rows.flatMap((row: Record<string, unknown>) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : "")));
        tables[`${schema}.${name}`] = [...asText.rows.map((r) => r.row), ...decoded].join("\n");
      }

      // The requests really happened and were recorded, raw to the cleared models, as placeholders to the others.
      const stored = await client.query<{ id: string; model_id: string; parameters: { policy?: { redacted: boolean } }; input: unknown }>(
        "SELECT id, model_id, parameters, input FROM executions");
      expect(stored.rows.length).toBe(executions.length);
      for (const execution of executions) {
        const row = stored.rows.find((r) => r.id === execution.id);
        expect(row, execution.model).toBeDefined();
        expect(row!.parameters.policy?.redacted, `${execution.model} ${execution.id}`).toBe(!execution.raw);
        expect(JSON.stringify(row!.input)).toMatch(/\[EMAIL_1\]/);
      }
    } finally {
      await client.end();
    }
    expect(Object.keys(tables)).toEqual(expect.arrayContaining(["public.executions", "public.audit_log", "public.audit_queue", "public.bidding_feedback", "public.bidding_decisions", "public.bidding_outcomes"]));
    expect(tables["public.audit_log"]!.length).toBeGreaterThan(1000);
    expect(tables["public.bidding_feedback"]).toContain("[EMAIL_1]");
    expect(gw.logs.length).toBeGreaterThan(20);
    const logText = gw.logs.map((line) => JSON.stringify(line)).join("\n");

    expect(auditText).toContain("request");
    const leaks: string[] = [];
    for (const { where, kind, value } of seeded) {
      for (const form of forms(kind, value)) {
        if (logText.includes(form)) leaks.push(`${where}: ${kind} ${form} in the log`);
        if (auditText.includes(form)) leaks.push(`${where}: ${kind} ${form} in an audit log entry`);
        if (exportText.includes(form)) leaks.push(`${where}: ${kind} ${form} in the audit export`);
        for (const [table, text] of Object.entries(tables)) if (text.includes(form)) leaks.push(`${where}: ${kind} ${form} in ${table}`);
      }
    }
    expect(seeded.length).toBeGreaterThan(250);
    expect(leaks).toEqual([]);
  });
});
