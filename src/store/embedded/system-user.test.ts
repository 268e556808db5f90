import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findUntraversableAncestor, lookupSystemUser, type SystemUser } from "./system-user.js";

let base: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "atomic-system-user-test-"));
  await chmod(base, 0o755);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("lookupSystemUser", () => {
  it("reads uid and primary gid from a passwd file", async () => {
    const passwd = join(base, "passwd");
    await writeFile(passwd, "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n");
    expect(lookupSystemUser("postgres", passwd)).toEqual({ name: "postgres", uid: 101, gid: 104 });
    expect(lookupSystemUser("nobody-here", passwd)).toBeNull();
  });
});

describe("findUntraversableAncestor", () => {
  // An account that owns nothing here and shares no group with these folders.
  const stranger: SystemUser = { name: "stranger", uid: 65_000, gid: 65_000 };

  it("names the first folder above the target that the account may not enter", async () => {
    const closed = join(base, "closed");
    await mkdir(join(closed, "inner"), { recursive: true });
    await chmod(closed, 0o700);
    expect(findUntraversableAncestor(join(closed, "inner", "data"), stranger)).toBe(closed);
  });

  it("accepts folders that others may search, and ones the account owns", async () => {
    const open = join(base, "open");
    await mkdir(open, { mode: 0o711 });
    await chmod(open, 0o711);
    expect(findUntraversableAncestor(join(open, "data"), stranger)).toBeNull();

    const owned = join(base, "owned");
    await mkdir(owned);
    await chmod(owned, 0o700);
    const { uid, gid } = await stat(owned);
    expect(findUntraversableAncestor(join(owned, "data"), { name: "owner", uid, gid })).toBeNull();
  });
});
