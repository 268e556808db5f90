import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CTIME_SETTLE_MS, describeChange, descriptorIdentity, sameIdentity, settledIdentity } from "./file-identity.js";

const file = (bytes: Buffer): string => {
  const path = join(mkdtempSync(join(tmpdir(), "atomic-identity-")), "file.bin");
  writeFileSync(path, bytes);
  return path;
};

describe("file identity (on this machine's kernel and file system)", () => {
  it("waits until a file just written has a settled ctime", async () => {
    const fd = openSync(file(Buffer.alloc(4096, 1)), "r+");
    try {
      const identity = await settledIdentity(fd);
      expect(Date.now() - Number(identity.ctimeNs / 1_000_000n)).toBeGreaterThanOrEqual(CTIME_SETTLE_MS);
    } finally {
      closeSync(fd);
    }
  });

  it("changes with every write once settled, even one that writes the same bytes at once", async () => {
    const bytes = Buffer.alloc(4096, 7);
    const fd = openSync(file(bytes), "r+");
    try {
      for (let round = 0; round < 20; round++) {
        const before = await settledIdentity(fd);
        writeSync(fd, bytes, 0, 16, 100);
        const after = descriptorIdentity(fd);
        expect(sameIdentity(before, after), `round ${round}`).toBe(false);
        expect(describeChange(before, after)).toContain("inode changed at");
      }
    } finally {
      closeSync(fd);
    }
  });

  it("stays the same while nothing writes", async () => {
    const fd = openSync(file(Buffer.alloc(64)), "r");
    try {
      const before = await settledIdentity(fd);
      expect(sameIdentity(before, descriptorIdentity(fd))).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
