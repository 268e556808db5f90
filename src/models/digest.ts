import { createHash } from "node:crypto";
import { createReadStream, fstatSync, openSync, closeSync } from "node:fs";

export type DigestProgress = (bytesDone: number, bytesTotal: number) => void;

/**
 * SHA-256 (hex) of the file open at `fd`, read from offset 0 without moving or closing the descriptor, so the
 * caller can go on to load exactly the bytes that were hashed.
 */
export async function sha256OfDescriptor(fd: number, onProgress?: DigestProgress): Promise<string> {
  const total = fstatSync(fd).size;
  const hash = createHash("sha256");
  let done = 0;
  const stream = createReadStream("", { fd, start: 0, autoClose: false, highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    done += chunk.length;
    onProgress?.(done, total);
  }
  return hash.digest("hex");
}

export async function sha256OfFile(path: string, onProgress?: DigestProgress): Promise<string> {
  const fd = openSync(path, "r");
  try {
    return await sha256OfDescriptor(fd, onProgress);
  } finally {
    closeSync(fd);
  }
}
