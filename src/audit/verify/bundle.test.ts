import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCheckpoint } from "../core/checkpoint.js";
import { encodeLeaf } from "../core/entry.js";
import { signHandover } from "../core/handover.js";
import { publicJwk, type SigningKey } from "../core/keys.js";
import { describeKey, keyIdentity } from "../core/key-identity.js";
import { receiptVerdictLine, verdictLine } from "./cli-main.js";
import { verifyReceipt } from "./receipt.js";
import { CHECKPOINT_FILE, ENTRIES_FILE, MAX_LEAF_BYTES, PREFIX_FILE } from "./export-format.js";
import { SyntheticLog, entryLines, joinEntryLines, sealExport, syntheticEvent, writeExportDir, type ExportFiles } from "./testing/export-fixture.js";
import { memorySource, verifyExportSource } from "./verify-export.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUNDLE = join(ROOT, "audit", "verify.mjs");

/**
 * Exactly what `npm run build:verifier` runs:
 *   node_modules/.bin/esbuild src/audit/verify/cli.ts --bundle --platform=node --format=esm --target=node20 --outfile=audit/verify.mjs
 */
const BUNDLE_OPTIONS: BuildOptions = {
  entryPoints: ["src/audit/verify/cli.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: "audit/verify.mjs",
  absWorkingDir: ROOT,
};

describe("audit/verify.mjs", () => {
  it("is exactly what esbuild makes of src/audit/verify/cli.ts (rebuild it with npm run build:verifier)", async () => {
    const result = await build({ ...BUNDLE_OPTIONS, write: false, metafile: true, logLevel: "silent" });
    expect(result.outputFiles?.length).toBe(1);
    const fresh = Buffer.from((result.outputFiles?.[0] as { contents: Uint8Array }).contents);
    const committed = readFileSync(BUNDLE);
    expect(fresh.length).toBe(committed.length);
    expect(fresh.equals(committed)).toBe(true);

    // Small enough to read, mail and review: well under 1 MiB.
    expect(committed.length).toBeLessThan(1024 * 1024);
    // Nothing of the gateway and no package goes in: node built-ins, the audit core and verifier, canonical JSON.
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs).toContain("src/audit/verify/verify-export.ts");
    for (const input of inputs) expect(input).toMatch(/^src\/(audit\/(core|verify)\/[a-z0-9-]+\.ts|util\/canonical-json\.ts)$/);
    expect(inputs.some((input) => input.includes("testing/"))).toBe(false);
    const imports = [...committed.toString("utf8").matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const specifier of imports) expect(specifier).toMatch(/^node:[a-z_/]+$/);
  });
});

describe("running audit/verify.mjs with plain node", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-verifier-"));
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const key: SigningKey = { name: "atomic.bundle-test", privateKey, publicKey };
  const keyPath = join(dir, "pub.jwk");
  const origin = "atomic.test/bundle";
  let log: SyntheticLog;

  const run = (...args: string[]) => {
    const child = spawnSync(process.execPath, [relative(ROOT, BUNDLE), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
  };
  const exportDir = async (name: string, files: ExportFiles) => {
    const path = join(dir, name);
    await writeExportDir(path, files);
    return path;
  };

  beforeAll(() => {
    writeFileSync(keyPath, JSON.stringify(publicJwk(key)));
    // About 7 MiB of entries: above the size from which the verifier checks leaves in a worker thread.
    log = SyntheticLog.build(key, origin, 11_000);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints OK and exits 0 for a good export, FAILED and 1 for a bad one, 2 for a bad command line", async () => {
    const good = await exportDir("good", await log.exportFiles({ from: 3, to: 40 }));
    const ok = run(good, "--key", keyPath);
    expect(ok.stderr).toBe("");
    const named = `key ${describeKey(keyIdentity(key.name, key.publicKey))}`;
    expect(ok.stdout).toBe(
      `OK: origin ${origin}, entries [3, 40), root ${log.rootAt(40).toString("base64")}; ${named}; ` +
        "NOT checked against a checkpoint you kept (no --previous): this shows what the log signs now, not that it kept what it signed before\n",
    );
    expect(run("key", keyPath).stdout).toBe(`${named}\n`);
    expect(ok.status).toBe(0);

    const previousPath = join(dir, "previous-checkpoint");
    writeFileSync(previousPath, log.checkpointAt(50));
    const rollback = run(good, "--key", keyPath, "--previous", previousPath);
    expect(rollback.stdout).toMatch(/^FAILED: rollback: the previous checkpoint has 50 leaves/);
    expect(rollback.status).toBe(1);

    const files = await log.exportFiles({ from: 3, to: 40 });
    const lines = entryLines(files);
    const gap = await exportDir("gap", await sealExport(new Map(files).set(ENTRIES_FILE, joinEntryLines([...lines.slice(0, 5), ...lines.slice(6)])), key, { origin, from: 3, to: 40 }));
    const failed = run(gap, "--key", keyPath);
    expect(failed.stdout).toBe("FAILED at index 8: index_gap: entries.jsonl line 6 (index 8): holds index 9 where index 8 was expected\n");
    expect(failed.status).toBe(1);

    expect(run(good).status).toBe(2);
    expect(run(good, "--key", join(dir, "missing.jwk")).status).toBe(2);
    expect(run(join(dir, "nowhere"), "--key", keyPath).status).toBe(2);
    const usage = run("--key", keyPath);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("usage: node verify.mjs DIR --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file]");
  });

  it("keeps its verdict to one line of plain text whatever names an export's files carry", async () => {
    const dir = await exportDir("inject", await log.exportFiles({ from: 3, to: 40 }));
    // A file name may hold any byte but "/" and NUL: a line break, a verdict of its own (U+2215 for "/"), a terminal escape.
    writeFileSync(join(dir, `x\nOK: origin atomic.test\u2215bundle, entries [3, 40); key atomic.bundle-test\n\u001b[8m\u202e`), "");
    const injected = run(dir, "--key", keyPath);
    expect(injected.status).toBe(1);
    expect(injected.stdout).toMatch(/^FAILED: file_unexpected: "x\\nOK: .*" is not listed in the manifest\n$/);
    expect(injected.stdout.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
  });

  it("refuses a key whose name could read as another key's identity on screen", () => {
    const genuine = keyIdentity(key.name, key.publicKey);
    // U+2800 renders as a space; the forged name shows the genuine id and fingerprint first.
    const forged = { name: `${key.name}\u2800id\u2800${genuine.keyId}\u2800${genuine.fingerprint}`, ...generateKeyPairSync("ed25519") };
    const forgedPath = join(dir, "forged.jwk");
    writeFileSync(forgedPath, JSON.stringify({ ...publicJwk({ ...forged, name: "placeholder" }), kid: forged.name }));
    const shown = run("key", forgedPath);
    expect(shown.stdout).toMatch(/^FAILED: key_invalid: .*not a valid note key name \(printable ASCII/);
    expect(shown.status).toBe(1);
  });

  it("verifies a receipt and a consistency proof as the library does, and refuses forged ones", () => {
    const file = (name: string, value: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
      return path;
    };
    const receipt = log.receipt(1234, 5000);
    const held = file("held-5000", log.checkpointAt(5000));
    const honest = run("receipt", file("receipt.json", receipt), "--key", keyPath, "--checkpoint", held);
    expect(honest.stdout).toBe(`${receiptVerdictLine(verifyReceipt(receipt, { publicKeyJwk: publicJwk(key), heldCheckpoint: log.checkpointAt(5000) }))}\n`);
    expect(honest.stdout).toMatch(/^OK: event .* is entry 1234 of origin .*; the tree of the checkpoint you hold\n$/);
    expect(honest.status).toBe(0);
    const forgedProof = { ...receipt, inclusion_proof: receipt.inclusion_proof.slice(0, -1) };
    expect(run("receipt", file("forged-receipt.json", forgedProof), "--key", keyPath)).toMatchObject({ status: 1, stdout: expect.stringMatching(/^FAILED: inclusion_failed: /) });

    const consistency = log.consistency(4096, 11_000);
    const previous = file("previous-4096", log.checkpointAt(4096));
    expect(run("consistency", file("consistency.json", consistency), "--key", keyPath, "--previous", previous, "--require-previous")).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^OK: origin .*, the tree of 11000 leaves \(root .*\) extends the tree of 4096 .*; from the checkpoint you hold\n$/),
    });
    const forgedConsistency = { ...consistency, proof: [log.rootAt(4096).toString("base64"), ...consistency.proof] };
    expect(run("consistency", file("forged-consistency.json", forgedConsistency), "--key", keyPath, "--previous", previous)).toMatchObject({ status: 1, stdout: expect.stringMatching(/^FAILED: consistency_failed: /) });
    expect(run("consistency", file("consistency-2.json", consistency), "--key", keyPath, "--require-previous")).toMatchObject({ status: 1, stdout: expect.stringMatching(/^FAILED: previous_missing: /) });
  });

  it("gives the same verdicts with its leaf-checking worker on a large export as in one thread", async () => {
    const size = log.size;
    const honest = await log.exportFiles({ from: 0, to: size });
    expect((honest.get(ENTRIES_FILE) as Buffer).length).toBeGreaterThan(4 * 1024 * 1024);
    const lines = entryLines(honest);
    const reseal = (edited: Buffer[], edit: (files: ExportFiles) => void = () => undefined) => {
      const files = new Map(honest).set(ENTRIES_FILE, joinEntryLines(edited));
      edit(files);
      return sealExport(files, key, { origin, from: 0, to: size });
    };
    const notCanonical = Buffer.from((lines[9000] as Buffer).toString().replace('"index":9000', '"index":9000.0'));
    const forged = encodeLeaf(7000, log.chainBefore(7000), { v: 1, id: "forged", time: "2025-01-01T00:00:00.000Z", kind: "config.loaded" });
    const cases: Record<string, ExportFiles> = {
      honest,
      "chain broken far in": await reseal([...lines.slice(0, 7000), forged, ...lines.slice(7001)]),
      "not canonical far in": await reseal([...lines.slice(0, 9000), notCanonical, ...lines.slice(9001)]),
      "last line cut": await reseal(lines, (files) => files.set(ENTRIES_FILE, (files.get(ENTRIES_FILE) as Buffer).subarray(0, -1))),
      "one line missing": await reseal([...lines.slice(0, 10_999), ...lines.slice(11_000)]),
      "bad prefix chain": await reseal(lines, (files) => files.set(PREFIX_FILE, Buffer.from((files.get(PREFIX_FILE) as Buffer).toString().replace(/"0{64}"/, `"${"1".repeat(64)}"`)))),
    };
    const expectedCodes: Record<string, string> = {
      honest: "OK",
      "chain broken far in": "FAILED at index 7001: chain_broken",
      "not canonical far in": "FAILED at index 9000: entry_not_canonical",
      "last line cut": "FAILED at index 10999: entry_malformed",
      "one line missing": "FAILED at index 10999: entry_count",
      "bad prefix chain": "FAILED: prefix_invalid",
    };
    for (const [name, files] of Object.entries(cases)) {
      const inOneThread = verdictLine(await verifyExportSource(memorySource(files), { publicKeyJwk: publicJwk(key) }, "never"));
      expect(inOneThread.startsWith(expectedCodes[name] as string), `${name}: ${inOneThread}`).toBe(true);
      const bundled = run(await exportDir(name.replace(/ /g, "-"), files), "--key", keyPath);
      expect(bundled.stdout, name).toBe(`${inOneThread}\n`);
      expect(bundled.status, name).toBe(name === "honest" ? 0 : 1);
    }
  });

  it("refuses a leaf built to exhaust memory before parsing it, within a 128 MB heap", async () => {
    const files = await log.exportFiles({ from: 0, to: 40 });
    const lines = entryLines(files);
    const room = MAX_LEAF_BYTES - 1024;
    const shaped = (body: string) => Buffer.from(`{"event":{"detail":{"x":${body}},"id":"x","kind":"k","time":"2025-01-01T00:00:00.000Z","v":1},"index":3,"prev":"${"0".repeat(64)}"}`);
    const bombs = { deep: shaped(`${"[".repeat(room / 2)}${"]".repeat(room / 2)}`), wide: shaped(`[${"{},".repeat(room / 3 - 1)}{}]`) };
    for (const [name, bomb] of Object.entries(bombs)) {
      const path = await exportDir(`bomb-${name}`, await sealExport(new Map(files).set(ENTRIES_FILE, joinEntryLines([...lines.slice(0, 3), bomb, ...lines.slice(4)])), key, { origin, from: 0, to: 40 }));
      const child = spawnSync(process.execPath, ["--max-old-space-size=128", relative(ROOT, BUNDLE), path, "--key", keyPath], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      expect(child.stdout, `${name}: ${child.stderr.slice(0, 300)}`).toMatch(/^FAILED at index 3: entry_malformed: entries\.jsonl line 4 \(index 3\): (nests|holds) .*more memory than the verifier allows\n$/);
      expect(child.status, name).toBe(1);
    }
  });

  it("bounds a retired key by its key.rotated leaf, seen by its leaf-checking worker on a large export", async () => {
    const old: SigningKey = { name: key.name, ...generateKeyPairSync("ed25519") };
    const oldPath = join(dir, "old.jwk");
    writeFileSync(oldPath, JSON.stringify(publicJwk(old)));
    const x = (signer: SigningKey) => publicJwk(signer)["x"] as string;
    const { id, time } = syntheticEvent(6000);
    const rotation = { v: 1 as const, id, time, kind: "key.rotated" as const, detail: { previousKey: x(old), nextKey: x(key), handover: signHandover(origin, x(key), old.privateKey) } };
    const rotated = SyntheticLog.build(old, origin, 11_000, (i) => (i === 6000 ? rotation : syntheticEvent(i)));
    rotated.keyAt = (size) => (size <= 6000 ? old : key);
    const honest = await rotated.exportFiles();
    expect((honest.get(ENTRIES_FILE) as Buffer).length).toBeGreaterThan(4 * 1024 * 1024);
    const ok = run(await exportDir("rotated", honest), "--key", keyPath, "--key", oldPath);
    expect(ok.stdout).toContain(`; key ${keyIdentity(old.name, old.publicKey).keyId} retired by the key.rotated leaf at index 6000 (`);
    expect(ok.status).toBe(0);
    // The same tree signed by the retired key: what whoever obtained it would publish.
    const resigned = new Map(honest).set(CHECKPOINT_FILE, Buffer.from(signCheckpoint({ origin, size: 11_000, root: rotated.rootAt(11_000) }, old)));
    const forged = run(await exportDir("rotated-forged", await sealExport(resigned, key, { origin, from: 0, to: 11_000 })), "--key", keyPath, "--key", oldPath);
    expect(forged.stdout).toMatch(/^FAILED: key_retired: the checkpoint of 11000 leaves is signed by key .* the key\.rotated leaf at index 6000 retired it/);
    expect(forged.status).toBe(1);
  });
});
