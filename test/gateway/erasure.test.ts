import { execFile, execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { ContentHasher } from "../../src/audit/content-hasher.js";
import { verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { decodeLeaf, type AuditEvent } from "../../src/audit/core/entry.js";
import { publicKeyFromJwk } from "../../src/audit/core/keys.js";
import { leafHash, verifyInclusion } from "../../src/audit/core/merkle.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { locatePostgresBinaries } from "../../src/store/embedded/binaries.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Retention and erasure end to end, on a real gateway and its real PostgreSQL: content seeded through every route
 * that stores caller text, erased through the admin route, `atomic erase` and the retention job, and then looked
 * for in a whole `pg_dump` of the database (bytea columns decoded, so the audit log's leaves are searched too).
 * What was erased is nowhere; what was not (another subject, another tenant, content younger than its retention)
 * is still there; the receipts of erased executions still verify, and so does an export of the log.
 */
let gw: TestGateway;
let db: pg.Client;
const RETAINED_TENANT = "ward-r";

/** A marker that cannot read as PII (letters only), so it is stored as written and findable. */
function secret(label: string): string {
  const letters = Array.from({ length: 14 }, () => String.fromCharCode(97 + randomInt(26))).join("");
  return `${label} ${letters}`;
}

interface Seeded {
  /** Executions made, by id, with their stored form before any erasure. */
  executions: Map<string, { input: unknown; output: unknown }>;
  /** Every caller text sent, and every output stored, as they would appear in the database. */
  texts: string[];
}

const seeded: Record<"a1" | "a2" | "b" | "rOld" | "rYoung", Seeded> = {
  a1: { executions: new Map(), texts: [] },
  a2: { executions: new Map(), texts: [] },
  b: { executions: new Map(), texts: [] },
  rOld: { executions: new Map(), texts: [] },
  rYoung: { executions: new Map(), texts: [] },
};
const keys: Record<string, string> = {};
/** Each caller's stop sequence: caller text stored with the execution, and in the audit log only as a keyed hash. */
const stopSequences: Record<string, string> = {};

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const subjectOf = (key: string) => `apikey:${key.split("_")[1]}`;

/** Sends `body` to `path` as `key`, keeps what was stored for it, and notes every text that must go with it. */
async function send(who: keyof typeof seeded, key: string, path: string, body: Record<string, unknown>, texts: string[]): Promise<string> {
  const response = await gw.post(path, body, as(key));
  expect(response.status, await response.clone().text()).toBe(200);
  const id = response.headers.get("x-atomic-execution-id") ?? (await response.json()).execution_id;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const stored = await (await gw.fetch(`/v1/executions/${id}`, { headers: as(key) })).json();
  seeded[who].executions.set(id, { input: stored.input, output: stored.output });
  seeded[who].texts.push(...texts);
  if (typeof stored.output === "string" && stored.output.length >= 8) seeded[who].texts.push(stored.output);
  return id;
}

async function seedCaller(who: keyof typeof seeded, key: string): Promise<void> {
  const chat = secret(`chat ${who}`);
  stopSequences[who] = secret(`stop ${who}`);
  const chatId = await send(who, key, "/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: chat }], max_tokens: 12, stop: [stopSequences[who]] }, [chat]);
  const comment = secret(`feedback ${who}`);
  expect((await gw.post("/v1/feedback", { execution_id: chatId, score: 0.5, comment }, as(key))).status).toBe(200);
  seeded[who].texts.push(comment);
  const prompt = secret(`prompt ${who}`);
  await send(who, key, "/v1/completions", { model: "tiny", prompt, max_tokens: 12 }, [prompt]);
}

/** A whole `pg_dump` of the test database, by table (COPY block), bytea values decoded as UTF-8 beside their hex. */
function dumpTables(): Map<string, string> {
  const pgDump = join(locatePostgresBinaries().binDir, "pg_dump");
  const dump = execFileSync(pgDump, ["--dbname", gw.databaseUrl, "--no-owner", "--no-privileges"], { maxBuffer: 512 * 1024 * 1024 }).toString("utf8");
  const tables = new Map<string, string>([["(schema)", ""]]);
  let current = "(schema)";
  for (const line of dump.split("\n")) {
    const copy = /^COPY ([\w.]+) /.exec(line);
    if (copy) current = copy[1]!;
    else if (line === "\\.") current = "(schema)";
    const decoded = line.replace(/\\\\x([0-9a-f]+)/g, (_, hex: string) => Buffer.from(hex, "hex").toString("utf8"));
    tables.set(current, `${tables.get(current) ?? ""}${line}\n${decoded === line ? "" : `${decoded}\n`}`);
  }
  return tables;
}

/** The forms `text` takes in a dump: as written, inside JSON, and inside JSON in a COPY line (backslashes doubled). */
function forms(text: string): string[] {
  const json = JSON.stringify(text).slice(1, -1);
  return [...new Set([text, json, json.replace(/\\/g, "\\\\")])];
}

/** The tables of the dump that hold `text` in any of its forms. */
function tablesHolding(tables: Map<string, string>, text: string): string[] {
  return [...tables].filter(([, body]) => forms(text).some((form) => body.includes(form))).map(([table]) => table);
}

async function rowsOf(tenant: string): Promise<string[]> {
  const executions = await db.query<{ row: string }>("SELECT e::text AS row FROM executions e WHERE tenant = $1 ORDER BY id", [tenant]);
  const feedback = await db.query<{ row: string }>("SELECT f::text AS row FROM bidding_feedback f WHERE tenant = $1 ORDER BY id", [tenant]);
  return [...executions.rows, ...feedback.rows].map((r) => r.row);
}

async function erasureEvents(): Promise<AuditEvent[]> {
  await gw.gateway.audit.sequencer.drain();
  return (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "content.erased");
}

async function receiptOf(executionId: string): Promise<Record<string, any>> {
  await gw.gateway.audit.sequencer.drain();
  const response = await gw.fetch(`/v1/audit/receipt/${executionId}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** Runs `atomic` as an operator would, in its own process, against the gateway's database and keys. */
function atomic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), "atomic-erase-cli-"));
  const env = { ...process.env, DATABASE_URL: gw.databaseUrl, ATOMIC_DATA_DIR: gw.dataDir, USER: "erasure-test" };
  return new Promise((done) => {
    execFile(process.execPath, [inject("atomicCli"), ...args], { env, cwd }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]), retention: { tenants: { [RETAINED_TENANT]: { days: 30 } } } });
  db = new pg.Client({ connectionString: gw.databaseUrl });
  await db.connect();
  keys["a1"] = await gw.issueKey("ward-a", ["infer", "embed", "tasks"]);
  keys["a2"] = await gw.issueKey("ward-a", ["infer", "embed", "tasks"]);
  keys["b"] = await gw.issueKey("ward-b", ["infer", "embed", "tasks"]);
  keys["r"] = await gw.issueKey(RETAINED_TENANT, ["infer"]);
  keys["adminA"] = await gw.issueKey("ward-a", ["admin"]);
  keys["adminB"] = await gw.issueKey("ward-b", ["admin"]);

  await seedCaller("a1", keys["a1"]!);
  const embedded = secret("embedding a1");
  await send("a1", keys["a1"]!, "/v1/embeddings", { model: "tiny", input: embedded }, [embedded]);
  const task = secret("task a1");
  const instructions = secret("instructions a1");
  await send("a1", keys["a1"]!, "/v1/tasks", { model: "tiny", input: task, instructions, max_tokens: 12 }, [task, instructions]);
  await seedCaller("a2", keys["a2"]!);
  await seedCaller("b", keys["b"]!);
  for (const who of ["rOld", "rYoung"] as const) {
    const text = secret(`retained ${who}`);
    await send(who, keys["r"]!, "/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: text }], max_tokens: 12 }, [text]);
  }
  await gw.gateway.audit.sequencer.drain();

  // The search works: before anything is erased, every seeded text is in the dump, in the table that stores it.
  const tables = dumpTables();
  for (const { texts } of Object.values(seeded)) {
    for (const text of texts) expect(tablesHolding(tables, text).filter((t) => t === "public.executions" || t === "public.bidding_feedback"), text).not.toEqual([]);
  }
});

afterAll(async () => {
  await db?.end();
  await gw?.close();
});

function expectGone(tables: Map<string, string>, who: keyof typeof seeded): void {
  // The random-weight model's outputs are short noise: another caller's kept output may be the very same string, and
  // then finding it says nothing about this caller's rows. Caller texts are random markers, never shared.
  const others = new Set(Object.entries(seeded).filter(([name]) => name !== who).flatMap(([, other]) => other.texts));
  for (const text of seeded[who].texts.filter((t) => !others.has(t))) expect(tablesHolding(tables, text), `${who}: ${text}`).toEqual([]);
}

function expectKept(tables: Map<string, string>, who: keyof typeof seeded): void {
  for (const text of seeded[who].texts) expect(tablesHolding(tables, text), `${who}: ${text}`).not.toEqual([]);
}

describe("erasure through the admin route", () => {
  it("counts in a dry run and changes nothing, not even the log", async () => {
    const before = { a: await rowsOf("ward-a"), events: (await auditEvents(gw.databaseUrl)).length };
    const response = await gw.post("/v1/admin/erasure", { subject: subjectOf(keys["a1"]!), dry_run: true }, as(keys["adminA"]!));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ object: "erasure", dry_run: true, tenant: "ward-a", selectors: { subject: subjectOf(keys["a1"]!) }, executions: 4, feedback_comments: 1 });
    await gw.gateway.audit.sequencer.drain();
    expect(await rowsOf("ward-a")).toEqual(before.a);
    expect((await auditEvents(gw.databaseUrl)).length).toBe(before.events);
  });

  it("refuses what it cannot use, and callers without admin", async () => {
    const missing = await gw.post("/v1/admin/erasure", { dry_run: true }, as(keys["adminA"]!));
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.code).toBe("erasure_selector_missing");
    const badDate = await gw.post("/v1/admin/erasure", { before: "2026-02-30" }, as(keys["adminA"]!));
    expect((await badDate.json()).error).toMatchObject({ code: "invalid_parameter", param: "before" });
    const unknown = await gw.post("/v1/admin/erasure", { before: "2026-01-01", tenant: "ward-b" }, as(keys["adminA"]!));
    expect((await unknown.json()).error.code).toBe("unknown_parameter");
    const notAdmin = await gw.post("/v1/admin/erasure", { subject: subjectOf(keys["a1"]!) }, as(keys["a1"]!));
    expect(notAdmin.status).toBe(403);
  });

  it("erases one subject's content from every table; the other subject and tenants keep theirs", async () => {
    const response = await gw.post("/v1/admin/erasure", { subject: subjectOf(keys["a1"]!) }, as(keys["adminA"]!));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ object: "erasure", dry_run: false, tenant: "ward-a", executions: 4, feedback_comments: 1 });
    expect(body.audit_event_ids).toHaveLength(1);

    const tables = dumpTables();
    expectGone(tables, "a1");
    for (const who of ["a2", "b", "rOld", "rYoung"] as const) expectKept(tables, who);
    const erasedRecords = [];
    for (const id of seeded.a1.executions.keys()) {
      const record = await (await gw.fetch(`/v1/executions/${id}`, { headers: as(keys["a1"]!) })).json();
      expect(record).toMatchObject({ id, input: null, output: null, model: "tiny", actor: { subject: subjectOf(keys["a1"]!), tenant: "ward-a" } });
      expect(record.model_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(record.usage.prompt_tokens).toBeGreaterThan(0);
      erasedRecords.push(record);
    }
    // Each erased record says when and by which audit event; a kept one says nothing was erased.
    for (const record of erasedRecords) expect(record.content_erased).toEqual({ at: expect.any(String), audit_event_id: body.audit_event_ids[0] });
    const [keptId] = seeded.a2.executions.keys();
    expect((await (await gw.fetch(`/v1/executions/${keptId}`, { headers: as(keys["a2"]!) })).json()).content_erased).toBeNull();

    const [event] = await erasureEvents();
    expect(event).toMatchObject({
      id: body.audit_event_ids[0],
      actor: { subject: subjectOf(keys["adminA"]!), tenant: "ward-a" },
      request: { endpoint: "POST /v1/admin/erasure" },
      detail: { erasure: body.erasure_id, trigger: "request", tenant: "ward-a", selectors: { subject: subjectOf(keys["a1"]!) }, count: 4, feedbackComments: 1 },
    });
    expect([...(event!.detail!["executions"] as string[])].sort()).toEqual([...seeded.a1.executions.keys()].sort());
  });

  it("keeps the receipts of erased executions verifiable, and still proving what was processed", async () => {
    const jwk = JSON.parse(readFileSync(join(gw.dataDir, "keys", "audit-signing.pub.jwk"), "utf8"));
    const hasher = ContentHasher.fromFile(join(gw.dataDir, "keys", "content-hash.key"));
    for (const [id, stored] of seeded.a1.executions) {
      const receipt = await receiptOf(id);
      const checkpoint = verifyCheckpoint(receipt.checkpoint, publicKeyFromJwk(jwk));
      const leaf = Buffer.from(receipt.leaf, "utf8");
      const proof = receipt.inclusion_proof.map((hash: string) => Buffer.from(hash, "base64"));
      expect(verifyInclusion(receipt.index, checkpoint.size, leafHash(leaf), proof, checkpoint.root)).toBe(true);
      // Whoever holds the erased text and the site's content key can still show it is what this request processed.
      const { event } = decodeLeaf(leaf);
      expect(event.content?.inputHash).toBe(hasher.hash(stored.input));
      if (stored.output !== null) expect(event.content?.outputHash).toBe(hasher.hash(stored.output));
    }
  });

  it("exports a log that verifies offline from index 0", async () => {
    await gw.gateway.audit.sequencer.drain();
    const dir = mkdtempSync(join(tmpdir(), "atomic-erasure-export-"));
    const response = await gw.fetch("/v1/audit/export");
    expect(response.status).toBe(200);
    writeFileSync(join(dir, "export.tar"), Buffer.from(await response.arrayBuffer()));
    execFileSync("tar", ["-xf", "export.tar"], { cwd: dir });
    execFileSync("rm", ["export.tar"], { cwd: dir });
    const jwk = JSON.parse(readFileSync(join(gw.dataDir, "keys", "audit-signing.pub.jwk"), "utf8"));
    expect(await verifyExport(dir, { publicKeyJwk: jwk })).toMatchObject({ ok: true, from: 0 });
    const entries = readFileSync(join(dir, "entries.jsonl"), "utf8");
    for (const text of seeded.a1.texts) for (const form of forms(text)) expect(entries).not.toContain(form);
  });
});

describe("erasure at the console", () => {
  it("leaves nothing half-done when a batch fails, then erases a tenant with `atomic erase`", async () => {
    const before = await rowsOf("ward-b");
    // The database refuses the change half-way through the batch, after its feedback comments were nulled.
    await db.query(`CREATE FUNCTION refuse_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
    await db.query(`CREATE TRIGGER refuse_erasure BEFORE UPDATE ON executions FOR EACH ROW WHEN (OLD.tenant = 'ward-b') EXECUTE FUNCTION refuse_erasure()`);
    try {
      const failed = await gw.post("/v1/admin/erasure", { before: "2100-01-01" }, as(keys["adminB"]!));
      expect(failed.status).toBe(500);
    } finally {
      await db.query("DROP TRIGGER refuse_erasure ON executions; DROP FUNCTION refuse_erasure()");
    }
    expect(await rowsOf("ward-b")).toEqual(before);
    expect((await erasureEvents()).filter((event) => event.detail?.["tenant"] === "ward-b")).toEqual([]);

    const dry = await atomic(["erase", "--tenant", "ward-b", "--before", "2100-01-01", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would erase the content of 2 executions and 1 feedback comments of tenant ward-b");
    expect(await rowsOf("ward-b")).toEqual(before);

    const run = await atomic(["erase", "--tenant", "ward-b", "--before", "2100-01-01"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("erased the content of 2 executions and 1 feedback comments of tenant ward-b");
    const tables = dumpTables();
    expectGone(tables, "b");
    for (const who of ["a2", "rOld", "rYoung"] as const) expectKept(tables, who);
    const events = (await erasureEvents()).filter((event) => event.detail?.["tenant"] === "ward-b");
    expect(events).toEqual([expect.objectContaining({ actor: { subject: "cli:erasure-test" }, detail: expect.objectContaining({ selectors: { before: "2100-01-01T00:00:00.000Z" }, count: 2 }) })]);

    const usage = await atomic(["erase", "--tenant", "ward-b"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("name what to erase");
  });

  it("exports with `atomic audit export` and verifies with audit/verify.mjs", async () => {
    await gw.gateway.audit.sequencer.drain();
    const out = join(mkdtempSync(join(tmpdir(), "atomic-erasure-cli-export-")), "export");
    const exported = await atomic(["audit", "export", "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    const verified = await new Promise<{ code: number; stdout: string }>((done) => {
      execFile(process.execPath, [resolve("audit/verify.mjs"), out, "--key", join(gw.dataDir, "keys", "audit-signing.pub.jwk")], (error, stdout) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout });
      });
    });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/^OK/);
  });
});

describe("retention", () => {
  it("erases content older than the tenant's retention on the job's run, and keeps what is younger", async () => {
    const [oldId] = [...seeded.rOld.executions.keys()];
    await db.query("UPDATE executions SET created_at = created_at - interval '40 days' WHERE id = $1", [oldId]);
    await gw.gateway.retention.runOnce();
    const tables = dumpTables();
    expectGone(tables, "rOld");
    expectKept(tables, "rYoung");
    expectKept(tables, "a2");
    // Whichever pass took it (the gateway's own timer may have come first), it was erased once and recorded once.
    const retention = (await erasureEvents()).filter((event) => event.detail?.["trigger"] === "retention");
    expect(retention.flatMap((event) => event.detail?.["executions"] as string[])).toEqual([oldId]);
    expect(retention[0]).toMatchObject({ actor: { subject: "atomic-retention" }, detail: { tenant: RETAINED_TENANT, retentionDays: 30 } });
  });
});

describe("what erasure cannot reach", () => {
  it("the gateway's log never held the content", () => {
    const lines = gw.logs.map((line) => JSON.stringify(line)).join("\n");
    for (const { texts } of Object.values(seeded)) for (const text of texts) expect(lines).not.toContain(text);
  });

  it("stop sequences: erased from the execution, and never in the audit log, which keeps only their keyed hash", () => {
    const tables = dumpTables();
    expect(tablesHolding(tables, stopSequences["a1"]!)).toEqual([]);
    expect(tablesHolding(tables, stopSequences["a2"]!)).toEqual(["public.executions"]);
  });
});
