import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TAR_END, tarHeader, tarPadding } from "./tar.js";

describe("ustar writer", () => {
  it("produces archives that GNU tar lists and extracts byte for byte", () => {
    const files: Array<[string, Buffer]> = [["entries.jsonl", Buffer.from('{"a":1}\n'.repeat(100))], ["empty", Buffer.alloc(0)], ["block", Buffer.alloc(512, 1)]];
    const parts: Buffer[] = [];
    for (const [name, bytes] of files) parts.push(tarHeader(name, bytes.length, new Date(0)), bytes, tarPadding(bytes.length));
    parts.push(TAR_END);
    const dir = mkdtempSync(join(tmpdir(), "atomic-tar-"));
    writeFileSync(join(dir, "a.tar"), Buffer.concat(parts));
    expect(execFileSync("tar", ["-tf", "a.tar"], { cwd: dir, encoding: "utf8" }).trim().split("\n")).toEqual(files.map(([n]) => n));
    execFileSync("tar", ["-xf", "a.tar"], { cwd: dir });
    for (const [name, bytes] of files) expect(readFileSync(join(dir, name)).equals(bytes)).toBe(true);
  });

  it("refuses names tar cannot hold in a plain header", () => {
    expect(() => tarHeader("x".repeat(101), 1, new Date())).toThrow();
    expect(() => tarHeader("a b", 1, new Date())).toThrow();
  });
});
