/**
 * Data classification levels, lowest first. Cedar compares them as integers (context.classification,
 * resource.clearance), so the order here is the order policies see: a model cleared for a level may receive
 * every level at or below it.
 */
export const CLASSIFICATIONS = ["public", "internal", "confidential", "secret"] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export function isClassification(value: unknown): value is Classification {
  return typeof value === "string" && (CLASSIFICATIONS as readonly string[]).includes(value);
}

/** The integer Cedar sees: public 0, internal 1, confidential 2, secret 3. */
export function classificationLevel(value: Classification): number {
  return CLASSIFICATIONS.indexOf(value);
}

/** The more sensitive of two levels. */
export function higherClassification(a: Classification, b: Classification): Classification {
  return classificationLevel(a) >= classificationLevel(b) ? a : b;
}
