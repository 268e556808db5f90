import { NAME_PATTERN } from "../identity/principal.js";
import type { ContentSelector } from "../store/interface.js";
import { UUID_PATTERN } from "../util/uuidv7.js";

/** A selector that cannot be used, named by the parameter at fault (null: the combination). */
export class ErasureSelectorError extends Error {
  override readonly name = "ErasureSelectorError";
  constructor(readonly param: "tenant" | "subject" | "execution_id" | "before" | null, readonly code: "invalid_parameter" | "erasure_selector_missing", message: string) {
    super(message);
  }
}

/** As `atomic erase` and POST /v1/admin/erasure are given them, before they are checked. */
export interface ErasureSelectorInput {
  tenant: string;
  subject?: string | undefined;
  executionId?: string | undefined;
  before?: string | undefined;
}

/**
 * The selector of an erasure, checked the same way for the CLI and the admin route: at least one of subject,
 * execution and date besides the tenant (erasing a whole tenant is `before` a date after its last execution, said
 * on purpose), each in the form the records use.
 */
export function erasureSelector(input: ErasureSelectorInput): ContentSelector {
  if (!NAME_PATTERN.test(input.tenant)) throw new ErasureSelectorError("tenant", "invalid_parameter", `tenant ${JSON.stringify(input.tenant)} is not a tenant name`);
  if (input.subject === undefined && input.executionId === undefined && input.before === undefined) {
    throw new ErasureSelectorError(null, "erasure_selector_missing", "name what to erase: a subject, an execution id or a date (before), or several of them");
  }
  const selector: ContentSelector = { tenant: input.tenant };
  if (input.subject !== undefined) {
    if (!NAME_PATTERN.test(input.subject)) throw new ErasureSelectorError("subject", "invalid_parameter", "subject is not a caller identity (apikey:<key id> or a token's sub)");
    selector.subject = input.subject;
  }
  if (input.executionId !== undefined) {
    if (!UUID_PATTERN.test(input.executionId)) throw new ErasureSelectorError("execution_id", "invalid_parameter", "execution id is not a UUID");
    selector.executionId = input.executionId.toLowerCase();
  }
  if (input.before !== undefined) {
    const before = parseInstant(input.before);
    if (before === null) throw new ErasureSelectorError("before", "invalid_parameter", "before is not a date (YYYY-MM-DD, UTC midnight) or a date-time with its offset (2026-01-31T18:00:00Z)");
    selector.before = before;
  }
  return selector;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `YYYY-MM-DD` (midnight UTC) or an ISO 8601 date-time with `Z` or an offset; a time without an offset is refused
 * rather than read in some local zone, and so is a day the calendar does not have (Date would roll 02-30 over).
 */
export function parseInstant(text: string): Date | null {
  const match = INSTANT.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part))) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const instant = match[4] === undefined ? calendar : new Date(text);
  return Number.isNaN(instant.getTime()) ? null : instant;
}
