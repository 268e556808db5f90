import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { readGgufHeader } from "../../src/models/gguf/reader.js";
import { CAPABILITIES } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";


interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `atomic` exactly as an operator would, in its own process. */
function atomic(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [inject("atomicCli"), ...args], { env: { ...process.env, ...env }, cwd: dir }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let manifest: string;
let database: TestDatabase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "atomic-cli-"));
  manifest = join(dir, "models", "manifest.json");
  (await import("node:fs")).mkdirSync(join(dir, "models"));
  writeFileSync(join(dir, "models", "tiny.gguf"), buildTestModel({ seed: 11 }));
  writeFileSync(join(dir, "broken.gguf"), buildTestModel({ seed: 11, omitKeys: ["llama.attention.head_count"] }));
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify({ models: { manifest } }));
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

describe("atomic itself", () => {
  it("prints its version, and hands a command its flags even when no other argument follows", async () => {
    const version = await atomic(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(`atomic ${JSON.parse(readFileSync(resolve("package.json"), "utf8")).version}`);
    // Flags alone after a command were once dropped: `worker --dev-server` ran without the dev server. With a
    // Temporal binary that is not there, the dev server is what fails, in one line (and no worker starts).
    const devServer = await atomic(["worker", "--dev-server", "--no-inference"], { ATOMIC_TEMPORAL_BINARY: join(dir, "no-temporal"), DATABASE_URL: database.url });
    expect(devServer.code).toBe(1);
    expect(devServer.stderr.split("\n").filter((line) => line.startsWith("atomic:"))).toEqual([`atomic: ATOMIC_TEMPORAL_BINARY ${join(dir, "no-temporal")} does not exist`]);
    expect(devServer.stderr).not.toMatch(/\n\s+at /);
  });

  it("answers --help after a command with that command's options, before it with every command", async () => {
    const worker = await atomic(["worker", "--help"]);
    expect(worker.code).toBe(0);
    expect(worker.stdout).toMatch(/^Usage: atomic worker \[options\]\n\nrun Temporal workers/);
    for (const flag of ["--temporal <host:port>", "--namespace <ns>", "--host-id <id>", "--models <ids>", "--no-inference", "--no-control", "--dev-server"]) {
      expect(worker.stdout).toContain(flag);
    }
    expect(worker.stdout).not.toContain("add-adapter");
    const verify = await atomic(["audit", "verify", "--help"]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Usage: atomic audit verify \[options\] <dir>/);
    expect(verify.stdout).toMatch(/--key <pub\.jwk> +the log's public key/);
    expect(verify.stdout).toContain("--require-previous");
    expect(verify.stdout).toMatch(/Global Options:\n(.*\n)*\s+--config <file>/);
    const group = await atomic(["models", "adapter", "--help"]);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^ {2}promote \[options\] <id> +put a pinned adapter in service/m);
    const everyone = await atomic(["--help", "worker"]);
    expect(everyone.code).toBe(0);
    expect(everyone.stdout).toMatch(/^ {2}models +pin, verify and list models/m);
    expect(everyone.stdout).toContain("ATOMIC_CONFIG");
    expect((await atomic(["help", "erase"])).stdout).toContain("--dry-run");
  });

  it("answers a mistake in the command line with one line and the command's usage on stderr, exit code 2", async () => {
    const mistakes: Array<{ args: string[]; said: string; usage: string }> = [
      { args: ["worker", "--bogus"], said: "unknown option '--bogus'", usage: "atomic worker [options]" },
      { args: ["audit", "verify", "export", "--key", "k.jwk", "--bogus"], said: "unknown option '--bogus'", usage: "atomic audit verify [options] <dir>" },
      { args: ["apikeys", "create", "--tenant", "ward-7"], said: "required option '--scopes <list>' not specified", usage: "atomic apikeys create [options]" },
      { args: ["models", "adapter", "fit", "--base", "tiny"], said: "required option '--examples <file>' not specified", usage: "atomic models adapter fit [options]" },
      { args: ["models", "add"], said: "missing required argument 'file'", usage: "atomic models add [options] <file>" },
      { args: ["erase", "--tenant", "ward-7", "everything"], said: "too many arguments for 'erase'", usage: "atomic erase [options]" },
      { args: ["audit", "export", "--out", "x", "--previous-size", "ten"], said: "option '--previous-size <n>' argument 'ten' is invalid. must be a whole number", usage: "atomic audit export [options]" },
      { args: ["models", "add-adapter", "a.gguf", "--base", "tiny", "--scale", "0"], said: "option '--scale <s>' argument '0' is invalid. must be a number above 0 and at most 100", usage: "atomic models add-adapter [options] <file>" },
      { args: ["bidding", "train"], said: "give either an outcome table or --from-executions", usage: "atomic bidding train [options] [file]" },
      { args: ["keys"], said: "", usage: "atomic keys [options] [command]" },
    ];
    // Each is a process of its own, run side by side.
    const runs = await Promise.all(mistakes.map(({ args }) => atomic(args)));
    for (const [index, { args, said, usage }] of mistakes.entries()) {
      const run = runs[index]!;
      expect(run.code, args.join(" ")).toBe(2);
      if (said !== "") expect(run.stderr.split("\n")[0], args.join(" ")).toContain(`atomic: ${said}`);
      expect(run.stderr, args.join(" ")).toContain(`Usage: ${usage}`);
      expect(run.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
      expect(run.stdout, args.join(" ")).toBe("");
    }
  });

  it("reads --config before the command and after it", async () => {
    const missing = join(dir, "missing.config.json");
    const cases = [["--config", missing, "migrate"], ["migrate", "--config", missing], ["models", "add", "--id", "x", "--config", missing, "models/tiny.gguf"]];
    const runs = await Promise.all(cases.map((args) => atomic(args)));
    for (const [index, args] of cases.entries()) {
      const run = runs[index]!;
      expect(run.code, args.join(" ")).toBe(78);
      expect(run.stderr, args.join(" ")).toBe(`atomic: config file ${missing}: ENOENT: no such file or directory, open '${missing}'\n`);
    }
  });

  it("says in one line that Temporal cannot be reached, and what to do, instead of a transport trace", async () => {
    const run = await atomic(["worker", "--temporal", "127.0.0.1:1", "--no-inference"], { DATABASE_URL: database.url });
    expect(run.code).toBe(1);
    const said = run.stderr.split("\n").filter((line) => line.startsWith("atomic:"));
    expect(said).toEqual([expect.stringMatching(/^atomic: cannot reach Temporal at 127\.0\.0\.1:1 \(.+\): start it, run this worker with --dev-server/)]);
    expect(run.stderr).not.toMatch(/TransportError|tonic|\n\s+at /);
  });
});

describe("atomic models", () => {
  it("add hashes the file and pins it in the manifest", async () => {
    const run = await atomic(["models", "add", "models/tiny.gguf", "--id", "tiny", "--capabilities", "chat,completion", "--parallel", "3"]);
    expect(run.code, run.stderr).toBe(0);
    const expected = createHash("sha256").update(readFileSync(join(dir, "models", "tiny.gguf"))).digest("hex");
    expect(run.stdout).toContain(`pinned tiny: sha256 ${expected}`);
    expect(run.stderr).toMatch(/hashing 100%/);
    const entry = JSON.parse(readFileSync(manifest, "utf8")).models[0];
    expect(entry).toMatchObject({ id: "tiny", file: "tiny.gguf", sha256: expected, contextLength: 4096, capabilities: ["chat", "completion"], parallel: 3 });
  });

  it("add refuses a GGUF that llama.cpp would crash on, and an id already pinned", async () => {
    const broken = await atomic(["models", "add", "broken.gguf"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("llama.attention.head_count");
    const again = await atomic(["models", "add", "models/tiny.gguf", "--id", "tiny"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already pinned");
    // Values the manifest refuses are one line (a ZodError with a stack before, printed after hashing the whole file).
    for (const [flag, value, said] of [["--parallel", "0", "parallel: "], ["--id", "../../etc/passwd", "id: "]] as const) {
      const refused = await atomic(["models", "add", "models/tiny.gguf", "--replace", flag, value]);
      expect(refused.code, `${flag} ${value}`).toBe(1);
      expect(refused.stderr.trim().split("\n"), `${flag} ${value}`).toEqual([expect.stringContaining(said)]);
    }
    expect(JSON.parse(readFileSync(manifest, "utf8")).models).toHaveLength(1);
  });

  it("verify passes on the pinned file and fails once it changes", async () => {
    const ok = await atomic(["models", "verify"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok\s+tiny/m);
    appendFileSync(join(dir, "models", "tiny.gguf"), "x");
    const bad = await atomic(["models", "verify"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED\s+tiny\s+model_digest_mismatch/);
  });

  it("test-model writes the random-weight GGUF, prints its SHA-256 and how to pin it, and add accepts it", async () => {
    const help = await atomic(["models", "test-model", "--help"]);
    expect(help.stdout).toMatch(/^Usage: atomic models test-model \[options\]/);
    expect(help.stdout).toContain("--out <file>");
    expect(help.stdout).toContain("--seed <n>");
    const run = await atomic(["models", "test-model", "--out", "models/noise.gguf", "--seed", "7"]);
    expect(run.code, run.stderr).toBe(0);
    const file = join(dir, "models", "noise.gguf");
    const bytes = readFileSync(file);
    expect(bytes.equals(buildTestModel({ seed: 7 }))).toBe(true);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    expect(run.stdout.split("\n")).toEqual([
      `wrote ${file}: random-weight test model (noise, not language), seed 7, ${bytes.length} bytes`,
      `sha256 ${sha256}`,
      `pin it: atomic models add ${file} --id test-random --capabilities chat,completion`,
      "",
    ]);
    expect(readGgufHeader(file).metadata.get("general.architecture")?.value).toBe("llama");
    // The default seed is the gateway's own test model; an existing file is never overwritten.
    const again = await atomic(["models", "test-model", "--out", "models/noise.gguf"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`refused: cannot write ${file}: it exists (choose another --out)\n`);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect((await atomic(["models", "test-model", "--out", "models/default.gguf"])).code).toBe(0);
    expect(readFileSync(join(dir, "models", "default.gguf")).equals(buildTestModel({ seed: 1 }))).toBe(true);
    const pinned = await atomic(["models", "add", "models/noise.gguf", "--id", "test-random", "--capabilities", "chat,completion"]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toContain(`pinned test-random: sha256 ${sha256}`);
  });

  it("add --help names every capability a model can be pinned with", async () => {
    const help = await atomic(["models", "add", "--help"]);
    for (const capability of CAPABILITIES) expect(help.stdout).toContain(capability);
  });
});

describe("atomic keys and audit", () => {
  it("generates the signing key once, 0600, with a public JWK beside it", async () => {
    const run = await atomic(["keys", "generate"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/out of band, its identity: atomic\.local\/audit id [0-9a-f]{8} sha256:[0-9a-f]{64}\n/);
    const { statSync } = await import("node:fs");
    expect(statSync(join(dir, ".atomic", "keys", "audit-signing.pem")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, ".atomic", "keys", "audit-signing.pub.jwk"), "utf8"))).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    const again = await atomic(["keys", "generate"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });

  it("exports the log and verifies the export offline; a changed byte fails it", async () => {
    const { createPool } = await import("../../src/store/postgres/database.js");
    const { migrate } = await import("../../src/store/postgres/migrate.js");
    const { AuditSequencer } = await import("../../src/audit/store/sequencer.js");
    const { AuditQueueWriter } = await import("../../src/audit/store/queue.js");
    const { loadSigningKey } = await import("../../src/audit/core/keys.js");
    const { systemEvent } = await import("../../src/audit/events.js");
    const pool = createPool(database.url);
    try {
      await migrate(pool);
      const key = loadSigningKey(join(dir, ".atomic", "keys", "audit-signing.pem"), "atomic.local/audit");
      const sequencer = new AuditSequencer({ pool, key, origin: "atomic.local/audit", intervalMs: 5 });
      await sequencer.start();
      const queue = new AuditQueueWriter(pool);
      await Promise.all(Array.from({ length: 20 }, (_, i) => queue.enqueue(systemEvent("startup.selftest", { detail: { i } }))));
      await sequencer.drain();
      await sequencer.stop();
    } finally {
      await pool.end();
    }

    const exported = await atomic(["audit", "export", "--out", "export"], { DATABASE_URL: database.url });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain("exported entries [0, 20)");
    // Progress counts entries, not bytes.
    expect(exported.stderr).toContain("/20 entries)");
    expect(exported.stderr).not.toMatch(/\d B\//);
    // An end past the last signed tree is said, not silently cut.
    const short = await atomic(["audit", "export", "--out", "export-short", "--to", "25"], { DATABASE_URL: database.url });
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toContain("exported entries [0, 20) to export-short\nnote: --to 25 is beyond the latest signed checkpoint, of 20 leaves");
    const key = join(dir, ".atomic", "keys", "audit-signing.pub.jwk");
    const ok = await atomic(["audit", "verify", "export", "--key", key]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK/);

    const entries = join(dir, "export", "entries.jsonl");
    const lines = readFileSync(entries, "utf8").split("\n");
    lines[7] = lines[7]!.replace('"i":7', '"i":8');
    writeFileSync(entries, lines.join("\n"));
    const bad = await atomic(["audit", "verify", "export", "--key", key]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAILED/);
    const required = await atomic(["audit", "verify", "export-short", "--key", key, "--require-previous"]);
    expect(required.code).toBe(1);
    expect(required.stdout).toMatch(/^FAILED: previous_missing/);
    const noKey = await atomic(["audit", "verify", "export-short"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("never a key taken from the export");
  });

  it("verifies a receipt and a consistency proof offline, and prints a key's identity", async () => {
    const { createPool } = await import("../../src/store/postgres/database.js");
    const { AuditLogReader } = await import("../../src/audit/store/reader.js");
    const { receiptBody } = await import("../../src/audit/verify/receipt.js");
    const { consistencyBody } = await import("../../src/audit/verify/consistency-proof.js");
    const pool = createPool(database.url);
    try {
      const reader = new AuditLogReader(pool);
      const eventId = (await pool.query<{ event_id: string }>("SELECT event_id FROM audit_log WHERE idx = 3")).rows[0]!.event_id;
      writeFileSync(join(dir, "receipt.json"), JSON.stringify(receiptBody((await reader.receipt(eventId))!)));
      const latest = (await reader.latestCheckpoint())!;
      writeFileSync(join(dir, "latest.checkpoint"), latest.note);
      const between = await reader.consistency(latest.size);
      writeFileSync(join(dir, "consistency.json"), JSON.stringify(consistencyBody({ old: between.old, new: between.new, hashes: between.proof })));
    } finally {
      await pool.end();
    }
    const key = join(dir, ".atomic", "keys", "audit-signing.pub.jwk");
    const identity = await atomic(["audit", "key", key]);
    expect(identity.stdout).toMatch(/^key atomic\.local\/audit id [0-9a-f]{8} sha256:[0-9a-f]{64}\n$/);
    const receipt = await atomic(["audit", "verify-receipt", "receipt.json", "--key", key, "--checkpoint", "latest.checkpoint"]);
    expect(receipt.code, receipt.stdout + receipt.stderr).toBe(0);
    expect(receipt.stdout).toMatch(/^OK: event .* is entry 3 of origin atomic\.local\/audit/);
    expect(receipt.stdout).toContain(identity.stdout.trim().slice("key ".length));
    const consistency = await atomic(["audit", "verify-consistency", "consistency.json", "--key", key, "--previous", "latest.checkpoint"]);
    expect(consistency.code, consistency.stdout + consistency.stderr).toBe(0);
    expect((await atomic(["audit", "verify-receipt", "receipt.json"])).code).toBe(2);
  });

  it("rotates the signing key: the old private key deleted, its public key kept, the rotation queued, earlier checkpoints still exportable", async () => {
    const { readdirSync } = await import("node:fs");
    const keys = join(dir, ".atomic", "keys");
    const before = JSON.parse(readFileSync(join(keys, "audit-signing.pub.jwk"), "utf8"));
    const run = await atomic(["keys", "rotate"], { DATABASE_URL: database.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("restart the gateway");
    const after = JSON.parse(readFileSync(join(keys, "audit-signing.pub.jwk"), "utf8"));
    expect(after.x).not.toBe(before.x);
    expect(after.kid).toBe(before.kid);
    const retired = readdirSync(join(keys, "retired")).sort();
    // A retired key signs nothing again, and whoever may know it must not be able to either: only its public half stays.
    expect(retired).toEqual([expect.stringMatching(/^audit-signing-[0-9a-f]{8}\.pub\.jwk$/)]);
    const retiredJwk = join(keys, "retired", retired[0]!);
    expect(JSON.parse(readFileSync(retiredJwk, "utf8"))).toEqual(before);

    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const queued = (await client.query("SELECT event FROM audit_queue")).rows.map((row) => JSON.parse(row.event));
    await client.end();
    expect(queued).toEqual([expect.objectContaining({ kind: "key.rotated", detail: expect.objectContaining({ previousKey: before.x, nextKey: after.x }) })]);

    // The latest checkpoint is still the old key's: it exports, and verifies with both keys.
    const exported = await atomic(["audit", "export", "--out", "export-rotated"], { DATABASE_URL: database.url });
    expect(exported.code, exported.stderr).toBe(0);
    // Two keys: the auditor says which one was retired, and that it signed no more than this tree (its rotation
    // leaf, still queued, comes after it).
    const size = readFileSync(join(dir, "export-rotated", "checkpoint"), "utf8").split("\n")[1];
    const retiredId = /^audit-signing-([0-9a-f]{8})\.pub\.jwk$/.exec(retired[0]!)![1];
    const ok = await atomic(["audit", "verify", "export-rotated", "--key", join(keys, "audit-signing.pub.jwk"), "--key", retiredJwk, "--retired", `${retiredId}@${size}`]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const unbounded = await atomic(["audit", "verify", "export-rotated", "--key", join(keys, "audit-signing.pub.jwk"), "--key", retiredJwk]);
    expect(unbounded.stdout).toMatch(/^FAILED: key_unbounded: /);
  });
});

describe("atomic apikeys", () => {
  it("creates a key printed once, lists it without the secret, revokes it, and audits both", async () => {
    const db = { DATABASE_URL: database.url };
    const created = await atomic(["apikeys", "create", "--tenant", "ward-7", "--scopes", "infer,embed", "--description", "radiology reports"], db);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    const id = /^atk_([0-9a-f]{16})_/.exec(key)?.[1];
    expect(id).toBeDefined();
    expect(created.stderr).toContain("shown only this once");

    const listed = await atomic(["apikeys", "list"], db);
    expect(listed.stdout).toContain(`${id}\tward-7\tinfer,embed\tactive`);
    expect(listed.stdout).not.toContain(key.slice(21));

    const revoked = await atomic(["apikeys", "revoke", id!], db);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await atomic(["apikeys", "list"], db)).stdout).toMatch(new RegExp(`${id}\\tward-7\\tinfer,embed\\trevoked `));
    expect((await atomic(["apikeys", "revoke", "0000000000000000"], db)).code).toBe(1);

    const client = new (await import("pg")).default.Client({ connectionString: database.url });
    await client.connect();
    try {
      const queued = await client.query<{ event: string }>("SELECT event FROM audit_queue UNION ALL SELECT convert_from(leaf, 'UTF8') FROM audit_log");
      const kinds = queued.rows.map((row) => JSON.stringify(row.event)).filter((text) => text.includes(id!));
      expect(kinds.some((text) => text.includes("apikey.created"))).toBe(true);
      expect(kinds.some((text) => text.includes("apikey.revoked"))).toBe(true);
      expect(queued.rows.map((row) => row.event).join("\n")).not.toContain(key.slice(21));
    } finally {
      await client.end();
    }
  });

  it("refuses unknown scopes and bad tenants with usage, creating nothing", async () => {
    const db = { DATABASE_URL: database.url };
    const before = (await atomic(["apikeys", "list"], db)).stdout;
    const badScope = await atomic(["apikeys", "create", "--tenant", "ward-7", "--scopes", "infer,root"], db);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("unknown scope root");
    const badTenant = await atomic(["apikeys", "create", "--tenant", "ward 7", "--scopes", "infer"], db);
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr).toContain("not a plain name");
    expect((await atomic(["apikeys", "list"], db)).stdout).toBe(before);
  });
});

describe("atomic configuration and usage", () => {
  it("migrate applies the schema to the configured database", async () => {
    const run = await atomic(["migrate"], { DATABASE_URL: database.url });
    expect(run.code, run.stderr).toBe(0);
    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const tables = (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
    await client.end();
    expect(tables).toEqual(expect.arrayContaining(["executions", "schemas"]));
  });

  it("stops at start on a bad setting, naming the key and its source", async () => {
    const run = await atomic(["migrate"], { ATOMIC_INFERENCE_GPU: "tpu" });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain("inference.gpu");
    expect(run.stderr).toContain("ATOMIC_INFERENCE_GPU");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("answers an unknown command with usage and exit code 2", async () => {
    const run = await atomic(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^atomic: unknown command 'frobnicate'\n/);
    expect(run.stderr).toContain("Usage: atomic [options] [command]");
    const near = await atomic(["wroker"]);
    expect(near.code).toBe(2);
    expect(near.stderr).toContain("(Did you mean worker?)");
    const nothing = await atomic([]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("Usage: atomic [options] [command]");
  });
});
