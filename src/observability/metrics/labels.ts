/** The label of a request no credential was accepted for: a tenant name can never spell it (NAME_PATTERN). */
export const NO_TENANT = "(none)";
/** The label every value past the cap shares. */
export const OTHER = "(other)";

/**
 * A label whose values callers choose (tenants): the names given up front always keep their own series, and so do
 * the first `others` further values seen; every later one is counted under OTHER. The number of series is then
 * bounded by configuration, however many distinct values arrive.
 */
export class BoundedLabel {
  private readonly named: ReadonlySet<string>;
  private readonly seen = new Set<string>();

  constructor(named: Iterable<string>, private readonly others: number) {
    this.named = new Set(named);
  }

  of(value: string | undefined): string {
    if (value === undefined) return NO_TENANT;
    if (this.named.has(value) || this.seen.has(value)) return value;
    if (this.seen.size >= this.others) return OTHER;
    this.seen.add(value);
    return value;
  }
}
