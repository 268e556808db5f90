import { isIPv4, isIPv6 } from "node:net";

const EMAIL_LOCAL_PART = String.raw`[a-z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)*`;
const DOMAIN_LABEL = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
const EMAIL = new RegExp(`^${EMAIL_LOCAL_PART}@(?:${DOMAIN_LABEL}\\.)+${DOMAIN_LABEL}$`, "i");

/**
 * The `format` values the validator checks. Ajv ships no formats of its own (ajv-formats is not a dependency), and
 * an unchecked format would let invalid output through, so a schema naming any other format is refused.
 */
export const FORMAT_VALIDATORS: Readonly<Record<string, (value: string) => boolean>> = {
  date: isDate,
  time: isTime,
  "date-time": isDateTime,
  uuid: (value) => /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(value),
  email: (value) => EMAIL.test(value),
  hostname: (value) =>
    /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$/i.test(value),
  uri: (value) => /^[a-z][a-z0-9+.-]*:[^\s]*$/i.test(value) && URL.canParse(value),
  ipv4: isIPv4,
  ipv6: isIPv6,
};

export function isSupportedFormat(format: unknown): boolean {
  return typeof format === "string" && Object.hasOwn(FORMAT_VALIDATORS, format);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** RFC 3339 full-date, with the real number of days in the month. */
function isDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** RFC 3339 full-time: the time zone is required. */
function isTime(value: string): boolean {
  return /^(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i.test(value);
}

function isDateTime(value: string): boolean {
  const parts = value.split(/[tT ]/);
  return parts.length === 2 && isDate(parts[0]!) && isTime(parts[1]!);
}
