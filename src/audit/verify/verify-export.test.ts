import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keyIdentity } from "../core/key-identity.js";
import { publicJwk, publicKeyFromJwk, type SigningKey } from "../core/keys.js";
import { USAGE, runVerifierCli, verdictLine } from "./cli-main.js";
import { CONSISTENCY_FILE, ENTRIES_FILE, MAX_LEAF_BYTES, MAX_SMALL_FILE_BYTES, PREFIX_FILE } from "./export-format.js";
import { MAX_LEAF_NESTING, MAX_LEAF_VALUES } from "./json-shape.js";
import { SyntheticLog, entryLines, joinEntryLines, sealExport, syntheticEvent, writeExportDir, type ExportFiles } from "./testing/export-fixture.js";
import { memorySource, verifyExportSource, type VerifyVerdict } from "./verify-export.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const key: SigningKey = { name: "atomic.unit", privateKey, publicKey };
const jwk = publicJwk(key);
const ORIGIN = "atomic.test/unit";
const log = SyntheticLog.build(key, ORIGIN, 12);
const claims = { origin: ORIGIN, from: 0, to: 8 };
const verify = (files: ExportFiles, chunkSize?: number) =>
  verifyExportSource(memorySource(files, chunkSize === undefined ? {} : { chunkSize }), { publicKeyJwk: jwk }, "never");

describe("verifyExportSource limits", () => {
  it("refuses a line longer than the leaf limit without holding it, wherever the chunks split it", async () => {
    const files = await log.exportFiles({ to: 8 });
    const lines = entryLines(files);
    const long = Buffer.alloc(MAX_LEAF_BYTES + 10, 0x41);
    const tampered = await sealExport(new Map(files).set(ENTRIES_FILE, joinEntryLines([...lines.slice(0, 3), long, ...lines.slice(3)])), key, claims);
    for (const chunkSize of [65_536, 1_000_003, undefined]) {
      expect(await verify(tampered, chunkSize)).toMatchObject({ ok: false, code: "entry_malformed", index: 3, reason: expect.stringContaining("longer than") });
    }
    // Even as the very last, unterminated line.
    const unterminated = await sealExport(new Map(files).set(ENTRIES_FILE, Buffer.concat([joinEntryLines(lines), long])), key, claims);
    expect(await verify(unterminated, 65_536)).toMatchObject({ ok: false, code: "entry_malformed", index: 8 });
  });

  it("refuses a leaf too costly to parse (nested too deep, too many values) before parsing it, and takes a large one within the limits", async () => {
    const files = await log.exportFiles({ to: 8 });
    const lines = entryLines(files);
    const shaped = (body: string) => Buffer.from(`{"event":{"detail":{"x":${body}},"id":"x","kind":"k","time":"2025-01-01T00:00:00.000Z","v":1},"index":3,"prev":"${"0".repeat(64)}"}`);
    const cases = {
      deep: shaped(`${"[".repeat(MAX_LEAF_NESTING + 1)}${"]".repeat(MAX_LEAF_NESTING + 1)}`),
      wide: shaped(`[${Array.from({ length: MAX_LEAF_VALUES }, () => "{}").join(",")}]`),
    };
    for (const [name, line] of Object.entries(cases)) {
      const tampered = await sealExport(new Map(files).set(ENTRIES_FILE, joinEntryLines([...lines.slice(0, 3), line, ...lines.slice(4)])), key, claims);
      expect(await verify(tampered), name).toMatchObject({ ok: false, code: "entry_malformed", index: 3, reason: expect.stringContaining("more memory than the verifier allows") });
    }
    // A leaf of 100,000 numbers (over 200 KB) is scanned, and within the limits.
    const large = SyntheticLog.build(key, ORIGIN, 6, (i) => (i === 4 ? { ...syntheticEvent(i), detail: { values: Array.from({ length: 100_000 }, (_, n) => n) } } : syntheticEvent(i)));
    expect(await verifyExportSource(memorySource(await large.exportFiles()), { publicKeyJwk: jwk }, "never")).toMatchObject({ ok: true, to: 6 });
  });

  it("refuses small files beyond their limit after checking their digest", async () => {
    const files = await log.exportFiles({ to: 8 });
    const huge = Buffer.concat([files.get(PREFIX_FILE) as Buffer, Buffer.alloc(MAX_SMALL_FILE_BYTES, 0x20)]);
    expect(await verify(new Map(files).set(PREFIX_FILE, huge))).toMatchObject({ ok: false, code: "file_digest", file: PREFIX_FILE });
    expect(await verify(await sealExport(new Map(files).set(PREFIX_FILE, huge), key, claims))).toMatchObject({ ok: false, code: "prefix_invalid", reason: expect.stringContaining("larger than") });
  });

  it("reads prefix.json and consistency.json as any JSON of their shape (whitespace, member order)", async () => {
    const files = await log.exportFiles({ from: 4, to: 8, previousSize: 2 });
    const reformatted = new Map(files);
    for (const name of [PREFIX_FILE, CONSISTENCY_FILE]) {
      const value = JSON.parse((files.get(name) as Buffer).toString());
      reformatted.set(name, Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(value).reverse()), null, 2)));
    }
    const verdict = await verifyExportSource(memorySource(await sealExport(reformatted, key, { ...claims, from: 4 })), { publicKeyJwk: jwk, previousCheckpoint: log.checkpointAt(2) }, "never");
    expect(verdict).toMatchObject({ ok: true, from: 4, to: 8, consistency: { oldSize: 2, against: "previous-checkpoint" } });
  });

  it("falls back to one thread when a worker cannot run this module, with the same verdicts", async () => {
    // Under the test runner this module is TypeScript, which a worker thread cannot load.
    const files = await log.exportFiles({ to: 8 });
    const lines = entryLines(files);
    const swapped = await sealExport(new Map(files).set(ENTRIES_FILE, joinEntryLines([lines[1] as Buffer, lines[0] as Buffer, ...lines.slice(2)])), key, claims);
    for (const exported of [files, swapped]) {
      const inOne = await verifyExportSource(memorySource(exported), { publicKeyJwk: jwk }, "never");
      const insisted = await verifyExportSource(memorySource(exported), { publicKeyJwk: jwk }, "always");
      expect(insisted).toEqual(inOne);
    }
    expect(await verifyExportSource(memorySource(swapped), { publicKeyJwk: jwk }, "always")).toMatchObject({ ok: false, code: "index_gap", index: 0 });
  });
});

describe("several public keys (a log whose key was rotated)", () => {
  const otherKey = { ...key, ...generateKeyPairSync("ed25519") };
  const other = publicJwk(otherKey);
  const otherRetired = `${keyIdentity(otherKey.name, otherKey.publicKey).keyId}@0`;

  it("verifies when any key given signed, and refuses an empty or bad list", async () => {
    const files = await log.exportFiles({ to: 8 });
    const withKeys = (publicKeyJwk: unknown[], previousCheckpoint?: string, retired?: string[]) =>
      verifyExportSource(memorySource(files), { publicKeyJwk, ...(retired === undefined ? {} : { retired }), ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) }, "never");
    expect(await withKeys([other, jwk], log.checkpointAt(4), [otherRetired])).toMatchObject({ ok: true, to: 8 });
    expect(await withKeys([jwk, other], undefined, [otherRetired])).toMatchObject({ ok: true, to: 8 });
    // Two keys and no word of which one was retired: either could be, and a retired key must not sign what follows.
    expect(await withKeys([jwk, other])).toMatchObject({ ok: false, code: "key_unbounded", reason: expect.stringContaining("--retired") });
    expect(await withKeys([other])).toMatchObject({ ok: false, code: "manifest_signature" });
    expect(await withKeys([])).toMatchObject({ ok: false, code: "key_invalid", reason: "no public key given" });
    expect(await withKeys([jwk, { ...jwk, kty: "EC" }])).toMatchObject({ ok: false, code: "key_invalid" });
  });
});

describe("the verifier's command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 2 on usage errors and unreadable inputs, 1 on a key that is no key, 0 on help", async () => {
    const exportDir = join(dir, "export");
    await writeExportDir(exportDir, await log.exportFiles({ to: 8 }));
    const keyPath = join(dir, "pub.jwk");
    writeFileSync(keyPath, JSON.stringify(jwk));
    const notJson = join(dir, "not.jwk");
    writeFileSync(notJson, "-----BEGIN PUBLIC KEY-----");
    const privateJwk = join(dir, "private.jwk");
    writeFileSync(privateJwk, JSON.stringify({ ...jwk, d: privateKey.export({ format: "jwk" }).d }));

    expect(await runVerifierCli(["--help"])).toEqual({ exitCode: 0, stdout: USAGE });
    expect(await runVerifierCli([exportDir, "--key", keyPath])).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^OK: origin atomic\.test\/unit, entries \[0, 8\), root /) });
    for (const argv of [[], [exportDir], ["--key", keyPath], [exportDir, exportDir, "--key", keyPath], [exportDir, "--key"], [exportDir, "--key", keyPath, "--bogus"]]) {
      const result = await runVerifierCli(argv);
      expect(result.exitCode, JSON.stringify(argv)).toBe(2);
      expect(result.stderr).toContain(USAGE);
    }
    expect(await runVerifierCli([join(dir, "nowhere"), "--key", keyPath])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("is not a directory") });
    expect(await runVerifierCli([keyPath, "--key", keyPath])).toMatchObject({ exitCode: 2 });
    expect(await runVerifierCli([exportDir, "--key", join(dir, "none.jwk")])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("cannot read the key file") });
    expect(await runVerifierCli([exportDir, "--key", keyPath, "--previous", join(dir, "none")])).toMatchObject({ exitCode: 2 });
    expect(await runVerifierCli([exportDir, "--key", notJson])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: key_invalid: /) });
    expect(await runVerifierCli([exportDir, "--key", privateJwk])).toMatchObject({ exitCode: 1, stdout: expect.stringContaining("private key") });
    const otherPath = join(dir, "other.jwk");
    writeFileSync(otherPath, JSON.stringify(publicJwk({ ...key, ...generateKeyPairSync("ed25519") })));
    expect(await runVerifierCli([exportDir, "--key", otherPath, "--key", keyPath])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: key_unbounded: /) });
    const otherId = keyIdentity(key.name, publicKeyFromJwk(JSON.parse(readFileSync(otherPath, "utf8"))).publicKey).keyId;
    expect(await runVerifierCli([exportDir, "--key", otherPath, "--key", keyPath, "--retired", `${otherId}@0`])).toMatchObject({ exitCode: 0 });
    expect(await runVerifierCli([exportDir, "--key", keyPath, "--retired", `${otherId}@0`])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: key_invalid: --retired .*no key given/) });
    expect(await runVerifierCli([exportDir, "--key", keyPath, "--retired", "30"])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("is not KEYID@INDEX") });
    expect(await runVerifierCli([exportDir, "--key", otherPath])).toMatchObject({ exitCode: 1, stdout: expect.stringContaining("manifest_signature") });
  });

  it("prints one line per verdict, naming the key and saying when no checkpoint of the auditor's was checked", () => {
    const keys = [{ name: "k", keyId: "0a1b2c3d", fingerprint: `sha256:${"ab".repeat(32)}` }];
    const ok: VerifyVerdict = { ok: true, origin: "o", from: 1, to: 5, root: "cm9vdA==", checked: 4, keys };
    const keyWords = `key k id 0a1b2c3d sha256:${"ab".repeat(32)}`;
    expect(verdictLine(ok)).toBe(`OK: origin o, entries [1, 5), root cm9vdA==; ${keyWords}; NOT checked against a checkpoint you kept (no --previous): this shows what the log signs now, not that it kept what it signed before`);
    expect(verdictLine({ ...ok, consistency: { oldSize: 3, oldRoot: "b2xk", against: "previous-checkpoint" } })).toBe(
      `OK: origin o, entries [1, 5), root cm9vdA==; ${keyWords}; extends size 3 (root b2xk, checked against the previous checkpoint)`,
    );
    expect(verdictLine({ ...ok, consistency: { oldSize: 3, against: "unchecked" } })).toMatch(/consistency from size 3 NOT checked .*; NOT checked against a checkpoint you kept/);
    expect(verdictLine({ ...ok, consistency: { oldSize: 3, oldRoot: "b2xk", against: "exported-leaves" } })).toMatch(/checked against the exported leaves\); NOT checked against a checkpoint you kept/);
    expect(verdictLine({ ...ok, keys: [...keys, { ...keys[0]!, keyId: "99887766" }] })).toContain("; keys k id 0a1b2c3d sha256:");
    expect(verdictLine({ ok: false, code: "chain_broken", reason: "r", index: 7 })).toBe("FAILED at index 7: chain_broken: r");
    expect(verdictLine({ ok: false, code: "fork", reason: "r" })).toBe("FAILED: fork: r");
  });

  it("fails a run without --previous when --require-previous is given, and refuses a run without --key with a warning", async () => {
    const exportDir = join(dir, "export-required");
    await writeExportDir(exportDir, await log.exportFiles({ to: 8 }));
    const keyPath = join(dir, "required.jwk");
    writeFileSync(keyPath, JSON.stringify(jwk));
    const previousPath = join(dir, "previous-4");
    writeFileSync(previousPath, log.checkpointAt(4));

    const missing = await runVerifierCli([exportDir, "--key", keyPath, "--require-previous"]);
    expect(missing).toEqual({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: previous_missing: /) });
    const given = await runVerifierCli([exportDir, "--key", keyPath, "--previous", previousPath, "--require-previous"]);
    expect(given).toMatchObject({ exitCode: 0, stdout: expect.stringContaining("extends size 4 (root ") });
    expect(given.stdout).not.toContain("NOT checked");

    const noKey = await runVerifierCli([exportDir]);
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toContain("never a key taken from the export or receipt you are verifying");
  });

  it("names the key it used in the OK line, as `key FILE` prints it", async () => {
    const exportDir = join(dir, "export-named");
    await writeExportDir(exportDir, await log.exportFiles({ to: 8 }));
    const keyPath = join(dir, "named.jwk");
    writeFileSync(keyPath, JSON.stringify(jwk));
    const identity = await runVerifierCli(["key", keyPath]);
    expect(identity).toEqual({ exitCode: 0, stdout: expect.stringMatching(/^key atomic\.unit id [0-9a-f]{8} sha256:[0-9a-f]{64}$/) });
    const verdict = await runVerifierCli([exportDir, "--key", keyPath]);
    expect(verdict.stdout).toContain(`; ${identity.stdout};`);
    expect(await runVerifierCli(["key", join(dir, "not.jwk")])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: key_invalid: /) });
    expect(await runVerifierCli(["key", keyPath, "--key", keyPath])).toMatchObject({ exitCode: 2 });
  });
});
