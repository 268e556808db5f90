import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import { redactJson } from "../../redaction/index.js";
import type { Refusal } from "../middleware/auth/index.js";

/** Longest caller-supplied string a refusal event keeps (after redaction); the rest is cut, marked with "…". */
export const MAX_REFUSAL_TEXT = 200;

/** How many refusals one aggregated event stands for, and when the first and the last of them happened. */
export interface RefusalTally {
  count: number;
  from: Date;
  to: Date;
}

/**
 * The audit event of a refusal: who (when known) from where, which route (its pattern, never the path), which
 * code, and why. Strings a caller chose — its request id, the reason text that may quote its input — pass the
 * redaction stored records get and are bounded, because the log is append-only: what enters it stays. With a
 * tally, the event stands for that many refusals of one source, code and route, and carries no single reason.
 */
export function refusalEvent(refusal: Refusal, tally?: RefusalTally): AuditEvent {
  const principal = refusal.principal;
  return systemEvent("request.refused", {
    actor: {
      ...(principal === undefined ? {} : { subject: principal.subject, tenant: principal.tenant, tokenIdHash: principal.tokenIdHash }),
      ...(refusal.sourceAddress === undefined ? {} : { sourceAddress: refusal.sourceAddress }),
    },
    request: { id: callerText(refusal.requestId), endpoint: `${callerText(refusal.method)} ${refusal.route}` },
    outcome: { status: "refused", code: refusal.code },
    detail: tally === undefined
      ? { reason: callerText(refusal.reason) }
      : { count: tally.count, from: tally.from.toISOString(), to: tally.to.toISOString() },
  });
}

function callerText(text: string): string {
  const redacted = redactJson(text).value as string;
  if (redacted.length <= MAX_REFUSAL_TEXT) return redacted;
  // Never half a surrogate pair: the cut must still be well-formed text.
  return `${redacted.slice(0, MAX_REFUSAL_TEXT - 1).replace(/[\uD800-\uDBFF]$/, "")}…`;
}
