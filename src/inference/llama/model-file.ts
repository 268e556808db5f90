import { closeSync } from "node:fs";
import { NotARegularFileError, openRegularFile, sha256OfDescriptor } from "../../models/digest.js";
import { describeChange, descriptorIdentity, pathIdentity, sameIdentity, settledIdentity, type FileIdentity } from "../../models/file-identity.js";
import { GgufFormatError, readGgufHeaderFromFd, type GgufHeader } from "../../models/gguf/reader.js";
import { findGgufProblems } from "../../models/gguf/validate.js";

/** A model file the host will not load, with the stable code the gateway reports (model_digest_mismatch, …). */
export class LoadRefusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The pinned file, open, hashed and parsed: llama.cpp loads it through this descriptor. */
export interface VerifiedModelFile {
  fd: number;
  header: GgufHeader;
  /** The descriptor's identity before it was hashed: what it must still be once llama.cpp has read it. */
  identity: FileIdentity;
}

/**
 * Opens the pinned file, then hashes and parses the header from that same descriptor, which llama.cpp then loads
 * through /proc/self/fd: a file swapped by rename after the check is not what gets loaded. A write *into* the file
 * (same inode) between the hash and llama.cpp's read is what the identity is for: refuseIfChangedSince, after the
 * load, compares it.
 */
export async function openVerifiedModelFile(path: string, sha256: string): Promise<VerifiedModelFile> {
  let fd: number;
  try {
    fd = openRegularFile(path);
  } catch (error) {
    if (error instanceof NotARegularFileError) throw new LoadRefusal("model_malformed", error.message);
    throw new LoadRefusal("model_file_missing", `cannot open ${path}: ${(error as Error).message}`);
  }
  try {
    const identity = await settledIdentity(fd);
    const digest = await sha256OfDescriptor(fd);
    if (digest !== sha256) {
      throw new LoadRefusal("model_digest_mismatch", `SHA-256 of ${path} is ${digest}, the manifest pins ${sha256}`);
    }
    return { fd, header: verifiedHeader(fd), identity };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function verifiedHeader(fd: number): GgufHeader {
  try {
    const header = readGgufHeaderFromFd(fd);
    const problems = findGgufProblems(header);
    if (problems.length > 0) throw new LoadRefusal("model_malformed", `malformed GGUF: ${problems.join("; ")}`);
    return header;
  } catch (error) {
    if (error instanceof GgufFormatError) throw new LoadRefusal("model_malformed", `malformed GGUF: ${error.message}`);
    throw error;
  }
}

/**
 * Refuses (model_file_changed) when the file was written between its hash and now: called once llama.cpp has read
 * it, so that what was loaded is what was hashed. It cannot see a writer that mapped the file writable before the
 * hash and writes again to a page it already dirtied (no new ctime until that page is written back): file
 * permissions are the defence there.
 */
export function refuseIfChangedSince(file: VerifiedModelFile, path: string): void {
  const now = descriptorIdentity(file.fd);
  if (sameIdentity(file.identity, now)) return;
  throw new LoadRefusal(
    "model_file_changed",
    `${path} was written while it was verified and loaded (${describeChange(file.identity, now)}): what llama.cpp read may not be what was hashed, so it is refused`,
  );
}

/**
 * Resolves once what `path` names has kept one identity for `quietMs` (or names nothing for that long): a file being
 * copied in place (rsync --inplace, dd) is hashed once, after the copy, not over and over while it is written.
 */
export async function quietPath(path: string, quietMs: number): Promise<void> {
  for (let before = pathIdentity(path); ; ) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const after = pathIdentity(path);
    if (before === null ? after === null : after !== null && sameIdentity(before, after)) return;
    before = after;
  }
}

/** Hashes taken while the file kept changing before one is reported as it is. */
const DIGEST_ATTEMPTS = 3;

/**
 * SHA-256 of what `path` names now (null: nothing, or no regular file), hashed again while the file changes during
 * the hash, so that a copy still being written is not reported half-way.
 */
export async function currentDigest(path: string): Promise<string | null> {
  let digest: string | null = null;
  for (let attempt = 0; attempt < DIGEST_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = openRegularFile(path);
    } catch {
      return null;
    }
    try {
      const before = descriptorIdentity(fd);
      digest = await sha256OfDescriptor(fd);
      const after = pathIdentity(path);
      if (after !== null && sameIdentity(before, after)) return digest;
    } finally {
      closeSync(fd);
    }
  }
  return digest;
}
