import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript shipped in the bundle, without declarations
import { missingSearchBit, untraversableAncestor } from "../../deploy/install/system.mjs";

/** The installer's check that the service account can reach its data and code (deploy/install/system.mjs). */
const account = { uid: 990, gid: 980 };

describe("missingSearchBit", () => {
  it("checks the owner's, the group's or everyone's x bit, as the kernel does", () => {
    expect(missingSearchBit({ mode: 0o040755, uid: 0, gid: 0 }, account)).toBeNull();
    expect(missingSearchBit({ mode: 0o040750, uid: 0, gid: 0 }, account)).toBe("o+x");
    expect(missingSearchBit({ mode: 0o040750, uid: 0, gid: 980 }, account)).toBeNull();
    expect(missingSearchBit({ mode: 0o040701, uid: 0, gid: 980 }, account)).toBe("g+x");
    // The owner's bits alone count for the owner, even where everyone's would allow it.
    expect(missingSearchBit({ mode: 0o040611, uid: 990, gid: 980 }, account)).toBe("u+x");
    expect(missingSearchBit({ mode: 0o040700, uid: 990, gid: 0 }, account)).toBeNull();
    // An account not created yet (uid and gid -1) is "everyone"; root enters anything.
    expect(missingSearchBit({ mode: 0o040750, uid: 0, gid: 0 }, { uid: -1, gid: -1 })).toBe("o+x");
    expect(missingSearchBit({ mode: 0o040700, uid: 5, gid: 5 }, { uid: 0, gid: 0 })).toBeNull();
  });
});

describe("untraversableAncestor", () => {
  const root = mkdtempSync(join(tmpdir(), "atomic-traverse-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("names the first folder above the path the account cannot enter, and the fix; folders still to be made pass", () => {
    chmodSync(root, 0o755);
    mkdirSync(join(root, "srv", "data"), { recursive: true });
    chmodSync(join(root, "srv"), 0o750);
    expect(untraversableAncestor(join(root, "srv", "data", "atomic", "var"), account)).toEqual({ folder: join(root, "srv"), fix: "o+x" });
    chmodSync(join(root, "srv"), 0o751);
    expect(untraversableAncestor(join(root, "srv", "data", "atomic", "var"), account)).toBeNull();
  });
});

describe.skipIf(process.getuid?.() !== 0)("the installer (as root)", () => {
  it("refuses, in one line and before writing anything, a data directory below a folder the account cannot enter", () => {
    // A bundle in miniature: the installer's modules and a BUNDLE.json; the refusal comes before the key is read.
    const bundle = mkdtempSync(join(tmpdir(), "atomic-bundle-"));
    cpSync("deploy/install", join(bundle, "installer"), { recursive: true });
    writeFileSync(join(bundle, "BUNDLE.json"), JSON.stringify({ version: "0.0.0-test", llama: { builds: ["cpu"] }, temporal: { cli: "x", server: null } }));
    const site = mkdtempSync(join(tmpdir(), "atomic-site-"));
    chmodSync(site, 0o750);
    const run = spawnSync(process.execPath, [join(bundle, "installer", "install.mjs"), "--release-key", "/nonexistent", "--prefix", join(site, "opt", "atomic"),
      "--user", "atomic-test-nobody", "--systemd-dir", join(site, "systemd"), "--no-systemctl"], { encoding: "utf8" });
    rmSync(bundle, { recursive: true, force: true });
    expect(run.stderr).toBe(`install: refused: the atomic-test-nobody account cannot enter ${site}, above its data directory ${join(site, "opt", "atomic", "var")}: allow it (chmod o+x ${site}) or choose another --data-dir\n`);
    expect(run.status).toBe(1);
    expect(readdirSync(site)).toEqual([]);
    expect(existsSync("/etc/passwd") && readFileSync("/etc/passwd", "utf8").includes("atomic-test-nobody:")).toBe(false);
    rmSync(site, { recursive: true, force: true });
  });
});
