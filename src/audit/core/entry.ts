import { isUtf8 } from "node:buffer";
import { canonicalize } from "../../util/canonical-json.js";
import { sha256 } from "./sha256.js";

/**
 * What one audit record is, byte for byte.
 *
 * An AuditEvent is written by whoever witnessed it (a request handler, the model host supervisor, the CLI) into
 * the queue. The sequencer gives it its place: the leaf is the RFC 8785 canonical JSON of
 *   {"event": <event>, "index": <n>, "prev": "<hex chain hash of leaf n-1, or 64 zeros for n = 0>"}
 * and the chain hash of leaf n is SHA-256(leaf bytes). The leaf bytes are what the Merkle tree hashes and exactly
 * what an export's entries.jsonl holds, one per line.
 *
 * CONTRACT (implemented by the audit-core work; signatures are fixed):
 */

/** Every kind of event the log holds; a list, not only a type, so that a caller naming kinds can be checked. */
export const AUDIT_EVENT_KINDS = [
  "request",
  "request.refused",
  "model.loaded",
  "model.refused",
  "config.loaded",
  "key.generated",
  "key.rotated",
  "apikey.created",
  "apikey.revoked",
  "startup.selftest",
  "egress.denied",
  "bidding.changed",
  "policy.reloaded",
  "models.reloaded",
  "models.replaced",
  "models.removed",
  "models.unloaded",
  "models.loaded",
  "webhook.attempt",
  "schema.registered",
  "audit.read",
  "content.read",
  "content.erased",
  "feedback.recorded",
  "task.cancelled",
  "adapter.fitted",
  "adapter.promoted",
  "adaptation.changed",
  "tenant.settings.changed",
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

export interface AuditEvent {
  /** Format version of the event object. */
  v: 1;
  /** UUIDv7. */
  id: string;
  /** UTC, ISO 8601 with milliseconds and Z. */
  time: string;
  kind: AuditEventKind;
  actor?: { subject?: string; tenant?: string; tokenIdHash?: string; sourceAddress?: string };
  request?: { id: string; traceId?: string; endpoint?: string; executionId?: string };
  model?: { id: string; sha256: string };
  parameters?: Record<string, unknown>;
  policy?: { hash: string; decision: string };
  /** Salted SHA-256 of the input and output text (hex); the salt lives outside the log. */
  content?: { inputHash?: string; outputHash?: string; saltId?: string };
  usage?: { promptTokens: number; completionTokens: number };
  latencyMs?: number;
  outcome?: { status: "succeeded" | "failed" | "refused"; code?: string };
  /**
   * Free-form details for non-request events (reason of a refusal, key id, self-test results). An aggregated
   * `request.refused` carries `count`, `from` and `to` instead of a reason (audit/FORMAT.md §1).
   */
  detail?: Record<string, unknown>;
}

/** 32 zero bytes: the "prev" of the first leaf. */
export const GENESIS_CHAIN_HASH: Buffer = Buffer.alloc(32);

/** Why leaf bytes were refused: not a leaf at all (`malformed`), or a leaf in other than its canonical bytes. */
export class LeafError extends Error {
  override readonly name = "LeafError";
  constructor(readonly code: "malformed" | "not_canonical", message: string) {
    super(message);
  }
}

/** "time" of an event: UTC ISO 8601 with milliseconds, as Date.prototype.toISOString writes it for years 0–9999. */
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX_HASH = /^[0-9a-f]{64}$/;
const LEAF_FIELDS = ["event", "index", "prev"] as const;

/** Canonical leaf bytes for the event at `index` following a leaf whose chain hash is `prev`. */
export function encodeLeaf(index: number, prev: Buffer, event: AuditEvent): Buffer {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`leaf index ${index} is not a non-negative safe integer`);
  if (!(prev instanceof Uint8Array) || prev.length !== 32) throw new RangeError("leaf prev must be a 32-byte chain hash");
  const problem = eventProblem(event);
  if (problem !== undefined) throw new TypeError(`audit event refused: ${problem}`);
  const bytes = Buffer.from(canonicalize({ event, index, prev: Buffer.from(prev).toString("hex") }), "utf8");
  // What is written must be what decodeLeaf accepts (e.g. an event whose toJSON drops a required field).
  decodeLeaf(bytes);
  return bytes;
}

export interface DecodedLeaf {
  index: number;
  prev: Buffer;
  event: AuditEvent;
}

/** Parses leaf bytes and refuses anything that is not exactly the canonical encoding (reason in the message). */
/**
 * encodeLeaf for an event that arrives as text (what the queue holds), without serialising it again: "event" sorts
 * before "index" and "prev", so the canonical leaf is the canonical event text wrapped in the other two fields.
 * The text is trusted for nothing: it must be the canonical JSON of an event that passes eventProblem, so the bytes
 * equal what encodeLeaf writes for the parsed event (the sequencer re-encoded every event twice before this).
 */
export function encodeLeafFromText(index: number, prev: Buffer, eventText: string): { leaf: Buffer; event: AuditEvent } {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`leaf index ${index} is not a non-negative safe integer`);
  if (!(prev instanceof Uint8Array) || prev.length !== 32) throw new RangeError("leaf prev must be a 32-byte chain hash");
  let event: unknown;
  try {
    event = JSON.parse(eventText);
  } catch (error) {
    throw new TypeError(`audit event refused: not JSON (${(error as Error).message})`);
  }
  const problem = eventProblem(event);
  if (problem !== undefined) throw new TypeError(`audit event refused: ${problem}`);
  let canonical: boolean;
  try {
    canonical = isCanonicalText(event, eventText);
  } catch (error) {
    throw new TypeError(`audit event refused: ${(error as Error).message}`);
  }
  if (!canonical) throw new TypeError("audit event refused: not in canonical JSON (RFC 8785) form");
  const leaf = Buffer.from(`{"event":${eventText},"index":${index},"prev":"${Buffer.from(prev).toString("hex")}"}`, "utf8");
  return { leaf, event: event as AuditEvent };
}

export function decodeLeaf(bytes: Uint8Array): DecodedLeaf {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buffer)) throw new LeafError("not_canonical", "leaf is not valid UTF-8");
  const text = buffer.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LeafError("malformed", `leaf is not JSON (${(error as Error).message})`);
  }
  // The bytes are valid UTF-8, so equal text means equal bytes.
  if (!isCanonicalText(value, text)) throw new LeafError("not_canonical", "leaf is not in canonical JSON (RFC 8785) form");

  if (!isPlainObject(value)) throw new LeafError("malformed", "leaf is not a JSON object");
  for (const field of LEAF_FIELDS) {
    if (!Object.hasOwn(value, field)) throw new LeafError("malformed", `leaf has no "${field}"`);
  }
  for (const key of Object.keys(value)) {
    if (!(LEAF_FIELDS as readonly string[]).includes(key)) throw new LeafError("malformed", `leaf has an unexpected field ${JSON.stringify(key)}`);
  }
  const { index, prev, event } = value as { index: unknown; prev: unknown; event: unknown };
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) {
    throw new LeafError("malformed", "leaf index is not a non-negative safe integer");
  }
  if (typeof prev !== "string" || !HEX_HASH.test(prev)) throw new LeafError("malformed", "leaf prev is not 64 lowercase hex digits");
  const problem = eventProblem(event);
  if (problem !== undefined) throw new LeafError("malformed", `leaf event: ${problem}`);
  return { index, prev: Buffer.from(prev, "hex"), event: event as AuditEvent };
}

/** SHA-256 of the leaf bytes: what the next leaf's "prev" commits to. */
export function chainHash(leaf: Uint8Array): Buffer {
  return sha256(leaf);
}

/**
 * Whether `text` is exactly canonicalize(value), where value = JSON.parse(text).
 *
 * Fast path (the verifier decodes a million leaves): JSON.parse keeps the text's key order, and JSON.stringify
 * writes strings and numbers exactly as canonicalize does, so if JSON.stringify(value) reproduces the text and every
 * object's keys are in UTF-16 code unit order, the text is canonical. Otherwise (keys out of order, whitespace, or
 * integer-like keys, which V8 enumerates numerically), the full canonicalize decides.
 */
function isCanonicalText(value: unknown, text: string): boolean {
  try {
    if (JSON.stringify(value) === text) return keysInOrder(value);
    return canonicalize(value) === text;
  } catch (error) {
    // Nesting deep enough to exhaust the stack.
    throw new LeafError("malformed", `leaf has no canonical form (${(error as Error).message})`);
  }
}

function keysInOrder(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysInOrder(item)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysInOrder((value as Record<string, unknown>)[key])) return false;
    previous = key;
  }
  return true;
}

/** Checks what every event must carry (v, id, time, kind); optional members are not checked deeply. */
/** Why an event cannot become a leaf (words), or undefined when it can. */
export function eventProblem(event: unknown): string | undefined {
  if (!isPlainObject(event)) return "not an object";
  const { v, id, time, kind } = event as Record<string, unknown>;
  if (v !== 1) return `version ${JSON.stringify(v) ?? "undefined"} is not 1`;
  if (typeof id !== "string" || id.length === 0) return "no id";
  if (typeof time !== "string" || !EVENT_TIME.test(time)) return "time is not UTC ISO 8601 with milliseconds";
  if (typeof kind !== "string" || kind.length === 0) return "no kind";
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
