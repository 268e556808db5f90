import { createHash, verify } from "node:crypto";
import { trustedKeys, type TrustedKey } from "../../../src/audit/verify/trusted-keys.js";
import { verifierKeys, type KeyIdentity, type TrustedKeys } from "./keys.js";

/**
 * Receivers' check of a webhook delivery, to the gateway's scheme (src/orchestration/activities/gateway.ts): the
 * `x-atomic-signature` header is a compact JWS, `alg: EdDSA`, `typ: atomic-webhook+jwt`, `kid` the log's key name,
 * made with the audit log's signing key, over `{taskId, attempt, iat, bodySha256}`.
 */
const SIGNATURE_TYPE = "atomic-webhook+jwt";
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Why a delivery was refused; the same codes in every Atomic SDK (sdk/testdata/vectors.json). */
export type WebhookFailureCode =
  | "key_invalid"
  | "signature_missing"
  | "signature_malformed"
  | "signature_type"
  | "unknown_key"
  | "signature_invalid"
  | "body_mismatch"
  | "task_mismatch"
  | "attempt_mismatch"
  | "timestamp_out_of_tolerance";

export type WebhookVerification =
  | {
      ok: true;
      taskId: string;
      /** 1, 2, …: a delivery is retried with the same body, so deduplicate by task id. */
      attempt: number;
      /** When this attempt was signed. */
      signedAt: Date;
      key: KeyIdentity;
    }
  | { ok: false; code: WebhookFailureCode; reason: string };

export interface WebhookVerificationOptions {
  /** How far the signing time may be from now, either way, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** What "now" is; default the clock's. */
  now?: Date | number;
}

/** A fetch Headers, or Node's IncomingHttpHeaders (names in lowercase). */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

class Refusal extends Error {
  constructor(
    readonly code: WebhookFailureCode,
    message: string,
  ) {
    super(message);
  }
}

function headerOf(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  if (Array.isArray(value)) {
    if (value.length > 1) throw new Refusal("signature_malformed", `the ${name} header was sent ${value.length} times`);
    return value[0];
  }
  return value;
}

function jsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new Refusal("signature_malformed", `the signature's ${what} is not base64url JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Refusal("signature_malformed", `the signature's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The signature's protected header and payload, once a key given has verified it. */
function verifiedClaims(signature: string, keys: readonly TrustedKey[], retiredLeftOut: boolean): { claims: Record<string, unknown>; key: TrustedKey } {
  const note = retiredLeftOut ? "; the keys given with retiredAt are not used for webhooks" : "";
  const parts = signature.split(".");
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new Refusal("signature_malformed", "x-atomic-signature is not a compact JWS (three base64url parts)");
  const [protectedPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = jsonSegment(protectedPart, "protected header");
  if (header["alg"] !== "EdDSA") throw new Refusal("signature_malformed", `the signature's alg is ${JSON.stringify(header["alg"])}, not "EdDSA"`);
  if (header["typ"] !== SIGNATURE_TYPE) throw new Refusal("signature_type", `the signature's typ is ${JSON.stringify(header["typ"])}, not "${SIGNATURE_TYPE}"`);
  if ("crit" in header || "b64" in header) throw new Refusal("signature_malformed", "the signature's header has members the gateway never sets (crit, b64)");
  const kid = header["kid"];
  const candidates = keys.filter((key) => key.name === kid);
  if (candidates.length === 0) throw new Refusal("unknown_key", `signed by key ${JSON.stringify(kid)}, none of the keys given (${[...new Set(keys.map((key) => key.name))].join(", ")})${note}`);
  const signed = Buffer.from(`${protectedPart}.${payloadPart}`, "ascii");
  const bytes = Buffer.from(signaturePart, "base64url");
  const key = candidates.find((candidate) => bytes.length === 64 && verify(null, signed, candidate.publicKey, bytes));
  if (key === undefined) throw new Refusal("signature_invalid", `the signature does not verify with the key${candidates.length > 1 ? "s" : ""} named ${JSON.stringify(kid)}${note}`);
  return { claims: jsonSegment(payloadPart, "payload"), key };
}

function check(body: string | Uint8Array, headers: HeadersLike, trustedKey: TrustedKeys, options: WebhookVerificationOptions): WebhookVerification {
  const given = verifierKeys(trustedKey);
  if ("invalid" in given) throw new Refusal("key_invalid", given.invalid);
  let all: TrustedKey[];
  try {
    all = trustedKeys(given.jwks, given.retired);
  } catch (error) {
    throw new Refusal("key_invalid", (error as Error).message);
  }
  // The gateway signs each delivery (each retry too) with its current key when it sends it: a retired key signs no
  // delivery after its retirement, so only the keys given without a bound are used (one given both ways is retired).
  const keys = all.filter((key) => key.retiredAt === undefined);
  if (keys.length === 0) {
    throw new Refusal("key_invalid", "every key given is retired (given with retiredAt): a webhook is signed with the gateway's current key, so give that key without a bound");
  }
  const signature = headerOf(headers, "x-atomic-signature");
  if (signature === undefined || signature === "") throw new Refusal("signature_missing", "the delivery has no x-atomic-signature header");
  const { claims, key } = verifiedClaims(signature, keys, keys.length < all.length);
  const { taskId, attempt, iat, bodySha256 } = claims;
  if (typeof taskId !== "string" || !Number.isSafeInteger(attempt) || (attempt as number) < 1 || !Number.isSafeInteger(iat) || typeof bodySha256 !== "string") {
    throw new Refusal("signature_malformed", "the signed payload is not {taskId, attempt, iat, bodySha256}");
  }

  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== bodySha256) throw new Refusal("body_mismatch", `the body's SHA-256 is ${digest}, the signature is for ${bodySha256}: verify the raw bytes as received`);
  const headerTask = headerOf(headers, "x-atomic-task-id");
  if (headerTask !== taskId) throw new Refusal("task_mismatch", `x-atomic-task-id is ${JSON.stringify(headerTask ?? null)}, the signature is for task ${taskId}`);
  const headerAttempt = headerOf(headers, "x-atomic-delivery-attempt");
  if (headerAttempt !== String(attempt)) throw new Refusal("attempt_mismatch", `x-atomic-delivery-attempt is ${JSON.stringify(headerAttempt ?? null)}, the signature is for attempt ${attempt}`);

  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now === undefined ? Date.now() : Number(options.now)) / 1000);
  const skew = now - (iat as number);
  if (Math.abs(skew) > tolerance) {
    throw new Refusal("timestamp_out_of_tolerance", `signed ${Math.abs(skew)} s ${skew >= 0 ? "ago" : "in the future"}, beyond the tolerance of ${tolerance} s`);
  }
  return { ok: true, taskId, attempt: attempt as number, signedAt: new Date((iat as number) * 1000), key: { ...key.identity } };
}

/**
 * Verifies a webhook delivery: `body` is the raw body as received (its bytes are what was signed), `headers` the
 * request's. Accepts only a signature by a trusted key over this very body, for the task and attempt the headers
 * name, signed within `toleranceSeconds` of now. Only the keys given without a bound count: a retired key
 * (`{ key, retiredAt }`) never signs a delivery, and a list of retired keys only is refused (`key_invalid`). Never
 * throws: the verdict names the first check that failed.
 */
export function verifyWebhookSignature(body: string | Uint8Array, headers: HeadersLike, trustedKey: TrustedKeys, options: WebhookVerificationOptions = {}): WebhookVerification {
  try {
    return check(body, headers, trustedKey, options);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, reason: error.message };
    throw error;
  }
}
