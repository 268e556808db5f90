/**
 * Schema names appear in URLs, logs and execution records, so they are kept to a conservative alphabet. The
 * schemas table enforces the same pattern with a CHECK constraint.
 */
export const SCHEMA_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

export function isValidSchemaName(name: string): boolean {
  return SCHEMA_NAME_PATTERN.test(name);
}
