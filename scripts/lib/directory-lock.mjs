import { mkdirSync } from "node:fs";

/**
 * Waits until this process holds `path` as a lock: a directory, because mkdir is atomic where a file check and a
 * write are not. Two runs at once (two test runs, two shells) would otherwise race on the same install. Returns
 * false when `timeoutMs` passed first; the caller removes the directory when it is done.
 */
export function acquireDirectoryLock(path, { timeoutMs, pollMs }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(path);
      return true;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      if (Date.now() > deadline) return false;
      // A synchronous sleep: these scripts do nothing else while they wait.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pollMs);
    }
  }
}
