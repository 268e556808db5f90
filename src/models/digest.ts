import { createHash } from "node:crypto";
import { closeSync, constants, createReadStream, fstatSync, openSync } from "node:fs";

export type DigestProgress = (bytesDone: number, bytesTotal: number) => void;

/**
 * SHA-256 (hex) of the file open at `fd`, read from offset 0 without moving or closing the descriptor, so the
 * caller can go on to load the file that was hashed (that nothing wrote into it meanwhile is checked apart:
 * src/inference/llama/model-file.ts).
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

/** A pinned path that is no regular file: a FIFO would block the open or the read forever, a device never ends. */
export class NotARegularFileError extends Error {
  override readonly name = "NotARegularFileError";
}

/**
 * Opens `path` for reading, or throws NotARegularFileError: without blocking (opening a FIFO waits for a writer) and
 * checked with fstat on the descriptor itself, so that what is hashed next is that regular file.
 */
export function openRegularFile(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new NotARegularFileError(`${path} is not a regular file (a FIFO, device or directory cannot hold a pinned model)`);
  }
  return fd;
}

export async function sha256OfFile(path: string, onProgress?: DigestProgress): Promise<string> {
  const fd = openRegularFile(path);
  try {
    return await sha256OfDescriptor(fd, onProgress);
  } finally {
    closeSync(fd);
  }
}
