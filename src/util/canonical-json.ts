/**
 * Canonical JSON in the manner of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no whitespace, strings
 * and numbers serialised exactly as ECMAScript's JSON.stringify does (which is what JCS specifies). Equal documents
 * give equal text whatever their key order, so the text can be hashed.
 *
 * Values are treated as JSON.stringify treats them (toJSON is honoured, undefined members are left out, undefined
 * array items become null), except that non-finite numbers, bigints and cycles are refused rather than written as
 * something else.
 */
export function canonicalize(value: unknown): string {
  const text = serialise(value, new Set());
  if (text === undefined) throw new TypeError("canonical JSON: the value itself is not serialisable");
  return text;
}

function serialise(value: unknown, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case "bigint":
      throw new TypeError("canonical JSON: bigint has no JSON form");
    case "object":
      return value === null ? "null" : serialiseObject(value, ancestors);
    default:
      // undefined, functions and symbols: left out of objects, null in arrays, as JSON.stringify does.
      return undefined;
  }
}

function serialiseObject(value: object, ancestors: Set<object>): string | undefined {
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return serialise((value as { toJSON(): unknown }).toJSON(), ancestors);
  }
  if (ancestors.has(value)) throw new TypeError("canonical JSON: the value contains a cycle");
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item: unknown) => serialise(item, ancestors) ?? "null").join(",")}]`;
    }
    const members: string[] = [];
    // Array.prototype.sort without a comparator orders by UTF-16 code units, which is what RFC 8785 asks for.
    for (const key of Object.keys(value).sort()) {
      const member = serialise((value as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}
