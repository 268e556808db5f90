import { execFile } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { encodeLoraAdapter } from "../../src/models/adapters/lora-gguf.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { asciiToken, tokenAdapter } from "../support/adapters.js";

let dir: string;
let database: TestDatabase;

function atomic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [inject("atomicCli"), ...args], { env: { ...process.env, DATABASE_URL: database.url }, cwd: dir }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Events the commands queued for the log (the sequencer of a gateway would give them their places). */
async function queued(): Promise<AuditEvent[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<{ event: string }>("SELECT event FROM audit_queue ORDER BY event_id")).rows.map((r) => JSON.parse(r.event) as AuditEvent);
  } finally {
    await client.end();
  }
}

const manifest = () => JSON.parse(readFileSync(join(dir, "models", "manifest.json"), "utf8")) as { adapters?: Array<{ id: string; status: string }> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "atomic-cli-adapters-"));
  mkdirSync(join(dir, "models"));
  writeFileSync(join(dir, "models", "tiny.gguf"), buildTestModel({ seed: 11 }));
  writeFileSync(join(dir, "models", "z.gguf"), tokenAdapter(asciiToken("Z"), 8));
  writeFileSync(join(dir, "models", "y.gguf"), tokenAdapter(asciiToken("Y"), 8));
  // For a model with 128 dimensions: the base's shapes refuse it.
  writeFileSync(join(dir, "wide.gguf"), encodeLoraAdapter({ architecture: "llama", alpha: 1, pairs: [{ target: "blk.0.attn_q.weight", rank: 1, inputs: 128, outputs: 128, a: new Float32Array(128), b: new Float32Array(128) }] }));
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify({ models: { manifest: join(dir, "models", "manifest.json"), family: "" } }));
  database = await createTestDatabase();
  expect((await atomic(["models", "add", "models/tiny.gguf", "--id", "tiny"])).code).toBe(0);
});
afterAll(async () => database?.drop());

describe("atomic models add-adapter and adapter", () => {
  it("pins an adapter against its base model, promoted, and audits the promotion", async () => {
    const run = await atomic(["models", "add-adapter", "models/z.gguf", "--base", "tiny", "--task", "task:letters"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^pinned tiny\.task-letters\.v1 \(promoted, version 1\) for tiny \/ task:letters: sha256 [0-9a-f]{64}/);
    const [event] = await queued();
    expect(event).toMatchObject({ kind: "adapter.promoted", actor: { subject: expect.stringMatching(/^cli:/) }, model: { id: "tiny" }, detail: { adapter: "tiny.task-letters.v1", reason: "operator", previous: null } });
  });

  it("refuses an adapter whose shapes do not fit the base, and a file that is not an adapter", async () => {
    const wide = await atomic(["models", "add-adapter", "wide.gguf", "--base", "tiny"]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain("blk.0.attn_q.weight: shapes A 128×1, B 1×128 do not fit the base's 64×64");
    const model = await atomic(["models", "add-adapter", "models/tiny.gguf", "--base", "tiny"]);
    expect(model.code).toBe(1);
    expect(model.stderr).toContain("not an adapter file");
    expect(manifest().adapters).toHaveLength(1);
  });

  it("lists, rolls back to the version before, and verifies adapters like models", async () => {
    expect((await atomic(["models", "add-adapter", "models/y.gguf", "--base", "tiny", "--task", "task:letters"])).code).toBe(0);
    const listed = await atomic(["models", "adapters"]);
    expect(listed.stdout).toMatch(/^tiny\.task-letters\.v1\tretired\tv1\ttiny\ttask:letters/m);
    expect(listed.stdout).toMatch(/^tiny\.task-letters\.v2\tpromoted\tv2/m);

    const rollback = await atomic(["models", "adapter", "rollback", "--base", "tiny", "--task", "task:letters"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain("rolled back tiny.task-letters.v2: tiny.task-letters.v1 serves again");
    expect(manifest().adapters?.map((a) => a.status)).toEqual(["promoted", "retired"]);
    expect((await queued()).at(-1)).toMatchObject({ kind: "adapter.promoted", detail: { adapter: "tiny.task-letters.v1", reason: "rollback", previous: { adapter: "tiny.task-letters.v2" } } });

    appendFileSync(join(dir, "models", "z.gguf"), "x");
    const verify = await atomic(["models", "verify"]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/FAILED\s+tiny\.task-letters\.v1 \(adapter of tiny\)\s+adapter_digest_mismatch/);
    expect(verify.stdout).toMatch(/ok\s+tiny\.task-letters\.v2/);
  });
});
