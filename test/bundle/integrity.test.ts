/**
 * The signing and verification that the installer relies on, on small trees (fast; safe for the main suite).
 * The real bundle, tampered in many ways, is covered by offline-install.test.ts.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkRelativePath, displayFingerprint, fingerprintOf, normaliseFingerprint, parsePublicKey, parseSums, signTree, verifyBundle,
} from "../../deploy/install/bundle-integrity.mjs";

let root: string;
const release = generateKeyPairSync("ed25519");
const stranger = generateKeyPairSync("ed25519");

function tree(): void {
  mkdirSync(join(root, "app", "dist"), { recursive: true });
  mkdirSync(join(root, "lib"), { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "app", "dist", "main.js"), "console.log('atomic');\n");
  writeFileSync(join(root, "app", "dir with spaces.txt"), "spaces are allowed\n");
  writeFileSync(join(root, "lib", "libz.so.1.2"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
  symlinkSync("libz.so.1.2", join(root, "lib", "libz.so.1"));
  writeFileSync(join(root, "bin", "tool"), "#!/bin/sh\n");
  chmodSync(join(root, "bin", "tool"), 0o755);
}

async function sign(key = release.privateKey) {
  return signTree(root, key, { write: (file, text) => writeFileSync(join(root, file), text) });
}

const problemsOf = async (key = release.publicKey) => (await verifyBundle(root, key)).problems.map((p) => `${p.path}: ${p.problem}`);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "atomic-integrity-"));
  tree();
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("signTree / verifyBundle", () => {
  it("signs a tree that then verifies, with links and executables recorded", async () => {
    const signed = await sign();
    expect(signed.files).toBe(5); // four files and bundle-files.json
    const result = await verifyBundle(root, release.publicKey);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.meta?.symlinks).toEqual([{ path: "lib/libz.so.1", target: "libz.so.1.2" }]);
    expect(result.meta?.executables).toEqual(["bin/tool"]);
  });

  it("writes SHA256SUMS that coreutils' sha256sum -c accepts", async () => {
    await sign();
    const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: root, encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("names the file whose one byte changed", async () => {
    await sign();
    const file = join(root, "lib", "libz.so.1.2");
    const bytes = readFileSync(file);
    bytes[3] = bytes[3]! ^ 1;
    writeFileSync(file, bytes);
    expect(await problemsOf()).toEqual([expect.stringMatching(/^lib\/libz\.so\.1\.2: SHA-256 [0-9a-f]{64} differs from the signed [0-9a-f]{64}$/)]);
  });

  it("refuses a signature by another key, and a list changed after signing", async () => {
    await sign(stranger.privateKey);
    expect(await problemsOf()).toEqual([expect.stringMatching(/^SHA256SUMS\.sig: not a valid signature .* names key sha256:[0-9a-f]{64}, not the trusted/)]);
    await sign();
    const sums = readFileSync(join(root, "SHA256SUMS"), "utf8");
    writeFileSync(join(root, "SHA256SUMS"), sums.replace(/^./, (c) => (c === "0" ? "1" : "0")));
    expect(await problemsOf()).toEqual([expect.stringMatching(/^SHA256SUMS\.sig: .*names the trusted key but does not verify/)]);
  });

  it("refuses added, missing and re-pointed files and links", async () => {
    await sign();
    writeFileSync(join(root, "app", "extra.js"), "evil()\n");
    unlinkSync(join(root, "app", "dist", "main.js"));
    unlinkSync(join(root, "lib", "libz.so.1"));
    symlinkSync("/etc/shadow", join(root, "lib", "libz.so.1"));
    symlinkSync("../../etc/passwd", join(root, "app", "passwd"));
    expect(await problemsOf()).toEqual([
      "app/dist/main.js: missing (listed in the signed list)",
      "app/extra.js: not in the signed list (a file added after signing)",
      "app/passwd: a link that the signed list does not hold",
      "lib/libz.so.1: link points at /etc/shadow, signed as libz.so.1.2",
    ]);
  });

  it("reports a missing signature as not a signed bundle", async () => {
    await sign();
    unlinkSync(join(root, "SHA256SUMS.sig"));
    expect(await problemsOf()).toEqual([expect.stringMatching(/^SHA256SUMS\.sig: cannot be read \(ENOENT\)/)]);
  });

  it("will not sign a link that leaves the tree", async () => {
    symlinkSync("../../outside", join(root, "lib", "escape"));
    await expect(sign()).rejects.toThrow(/lib\/escape: its target \.\.\/\.\.\/outside leaves the bundle/);
  });
});

describe("the list's format", () => {
  it("accepts only what formatSums writes", () => {
    const hash = "a".repeat(64);
    expect(parseSums(`${hash}  a/b\n`)).toEqual([{ path: "a/b", sha256: hash }]);
    expect(() => parseSums(`${hash}  a/b`)).toThrow(/newline/);
    expect(() => parseSums(`${hash} *a/b\n`)).toThrow(/line 1/);
    expect(() => parseSums(`${hash}  ../etc/passwd\n`)).toThrow(/"\.\." segment/);
    expect(() => parseSums(`${hash}  /etc/passwd\n`)).toThrow(/absolute/);
    expect(() => parseSums(`${hash}  a\n${hash}  a\n`)).toThrow(/twice/);
    expect(() => parseSums(`${hash}  SHA256SUMS.sig\n`)).toThrow(/cannot be in it/);
    expect(checkRelativePath("a\\b")).toMatch(/backslash/);
  });
});

describe("release key fingerprints", () => {
  it("are the SHA-256 of the raw key, the same from JWK and PEM, and typed any way a person would", () => {
    const jwk = JSON.stringify(release.publicKey.export({ format: "jwk" }));
    const pem = release.publicKey.export({ format: "pem", type: "spki" }).toString();
    const fingerprint = fingerprintOf(parsePublicKey(jwk));
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fingerprintOf(parsePublicKey(pem))).toBe(fingerprint);
    expect(normaliseFingerprint(displayFingerprint(fingerprint).toUpperCase())).toBe(fingerprint);
    expect(() => normaliseFingerprint("sha256:abc")).toThrow(/64 hex digits/);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "pem", type: "spki" }).toString();
    expect(() => parsePublicKey(rsa, "k.pem")).toThrow(/k\.pem is a rsa key; releases are signed with Ed25519/);
  });
});
