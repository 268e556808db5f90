import type { KeyObject } from "node:crypto";
import { sign, verify } from "node:crypto";
import { sha256 } from "./sha256.js";

/**
 * Signed checkpoints in the C2SP formats: a tlog-checkpoint body
 *   "<origin>\n<size>\n<base64 root hash>\n"
 * wrapped in a signed-note: body, an empty line, then one signature line per signer
 *   "— <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature over the body)>\n"
 * where key id = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte raw Ed25519 public key)[:4].
 *
 * CONTRACT (implemented by the audit-core work; signatures are fixed):
 */

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export interface NoteSigner {
  name: string;
  privateKey: KeyObject;
}

export interface NoteVerifier {
  name: string;
  publicKey: KeyObject;
}

/** Why a signed checkpoint was refused, as a stable code and words. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  constructor(readonly code: "malformed" | "unknown_key" | "bad_signature", message: string) {
    super(message);
  }
}

/** The signature algorithm byte of Ed25519 in signed-note key ids. */
const ED25519_ALGORITHM = 0x01;
const SIGNATURE_PREFIX = "\u2014 ";
/** A verifier looks at no more than this many signature lines (C2SP signed-note allows such a bound). */
const MAX_SIGNATURES = 100;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root } = checkpoint;
  const originProblem = lineProblem(origin);
  if (originProblem !== undefined) throw new TypeError(`checkpoint origin ${originProblem}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`checkpoint size ${size} is not a non-negative safe integer`);
  if (!(root instanceof Uint8Array) || root.length !== 32) throw new RangeError("checkpoint root must be 32 bytes");
  return `${origin}\n${size}\n${Buffer.from(root).toString("base64")}\n`;
}

export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  checkKeyName(signer.name);
  if (signer.privateKey.type !== "private" || signer.privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError("checkpoint signer needs an Ed25519 private key");
  }
  const body = formatCheckpoint(checkpoint);
  const signature = sign(null, Buffer.from(body, "utf8"), signer.privateKey);
  const keyId = noteKeyId(signer.name, signer.privateKey);
  return `${body}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([keyId, signature]).toString("base64")}\n`;
}

/** Parses and verifies a signed note; throws CheckpointError. Extra signatures by other keys are ignored. */
export function verifyCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  if (typeof note !== "string") throw new CheckpointError("malformed", "signed note is not text");
  const { body, signatures } = splitNote(note);
  const checkpoint = parseCheckpointBody(body);

  const keyId = noteKeyId(verifier.name, verifier.publicKey);
  const signed = Buffer.from(body, "utf8");
  let candidates = 0;
  for (const line of signatures) {
    if (line.name !== verifier.name || !line.keyId.equals(keyId)) continue;
    candidates += 1;
    if (line.signature.length === 64 && verify(null, signed, verifier.publicKey, line.signature)) return checkpoint;
  }
  if (candidates === 0) {
    throw new CheckpointError("unknown_key", `no signature by key ${JSON.stringify(verifier.name)} (id ${keyId.toString("hex")})`);
  }
  throw new CheckpointError("bad_signature", `the signature by key ${JSON.stringify(verifier.name)} does not verify`);
}

/** Parses a signed note's checkpoint WITHOUT verifying any signature (for display and diagnostics only). */
export function parseUnverifiedCheckpoint(note: string): Checkpoint {
  return parseCheckpointBody(splitNote(note).body);
}

export function noteKeyId(name: string, publicKey: KeyObject): Buffer {
  checkKeyName(name);
  const raw = rawEd25519PublicKey(publicKey);
  return sha256(Buffer.concat([Buffer.from(name, "utf8"), Buffer.of(0x0a, ED25519_ALGORITHM), raw])).subarray(0, 4);
}

/** The 32-byte raw Ed25519 public key (RFC 8032) of a public or private KeyObject. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== "ed25519") throw new TypeError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  const jwk = key.export({ format: "jwk" });
  const x = typeof jwk.x === "string" ? Buffer.from(jwk.x, "base64url") : Buffer.alloc(0);
  if (x.length !== 32) throw new TypeError("Ed25519 public key is not 32 bytes");
  return x;
}

/**
 * A note key name: non-empty, no whitespace, no "+" (C2SP signed-note), and printable ASCII only. The name is what an
 * auditor reads out when comparing a key's identity out of band, and any other character could make one key's name
 * read as another's identity on screen (U+2800 renders as a space; bidirectional controls reorder the line).
 */
export function checkKeyName(name: string): void {
  if (typeof name !== "string" || !/^[\x21-\x2a\x2c-\x7e]+$/.test(name)) {
    throw new TypeError(`${JSON.stringify(name)} is not a valid note key name (printable ASCII, no spaces, no "+")`);
  }
}

interface SignatureLine {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

function splitNote(note: string): { body: string; signatures: SignatureLine[] } {
  // The text is everything up to the last blank line; the signature block follows it (as golang.org/x/mod/sumdb/note).
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new CheckpointError("malformed", "signed note has no blank line before its signatures");
  const body = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw new CheckpointError("malformed", "signed note does not end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new CheckpointError("malformed", `signed note has more than ${MAX_SIGNATURES} signatures`);
  const signatures: SignatureLine[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new CheckpointError("malformed", "signature line does not start with \"\u2014 \"");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space <= 0) throw new CheckpointError("malformed", "signature line has no key name");
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    try {
      checkKeyName(name);
    } catch {
      throw new CheckpointError("malformed", `signature line has an invalid key name ${JSON.stringify(name)}`);
    }
    const bytes = decodeStandardBase64(encoded);
    if (bytes === undefined || bytes.length < 5) throw new CheckpointError("malformed", `signature by ${JSON.stringify(name)} is not base64 of key id and signature`);
    signatures.push({ name, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) });
  }
  return { body, signatures };
}

function parseCheckpointBody(body: string): Checkpoint {
  if (!isWellFormed(body)) throw new CheckpointError("malformed", "checkpoint is not well-formed Unicode");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length !== 3) {
    throw new CheckpointError("malformed", `checkpoint has ${lines.length} lines, expected 3 (origin, size, root hash)`);
  }
  const [origin, sizeText, rootText] = lines as [string, string, string];
  const originProblem = lineProblem(origin);
  if (originProblem !== undefined) throw new CheckpointError("malformed", `checkpoint origin ${originProblem}`);
  if (!DECIMAL.test(sizeText)) throw new CheckpointError("malformed", `checkpoint size ${JSON.stringify(sizeText)} is not a decimal without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError("malformed", `checkpoint size ${sizeText} is beyond 2^53 - 1`);
  const root = decodeStandardBase64(rootText);
  if (root === undefined || root.length !== 32) throw new CheckpointError("malformed", "checkpoint root hash is not base64 of 32 bytes");
  return { origin, size, root };
}

/** Strict standard base64 with padding: undefined unless re-encoding gives the same text. */
export function decodeStandardBase64(text: string): Buffer | undefined {
  if (!STANDARD_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

function lineProblem(text: unknown): string | undefined {
  if (typeof text !== "string" || text.length === 0) return "is empty";
  if (/\p{Cc}/u.test(text)) return "holds a control character";
  if (!isWellFormed(text)) return "is not well-formed Unicode";
  return undefined;
}

/** No lone UTF-16 surrogates (String.prototype.isWellFormed, which the ES2023 lib does not declare). */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
