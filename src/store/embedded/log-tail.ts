import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** The last lines written to a log since `fromOffset`, to explain a failed start without reading the whole file. */
export function readLogTail(path: string, fromOffset: number, lines = 20, maxBytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return `(no log at ${path})`;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(fromOffset, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    closeSync(fd);
  }
}
