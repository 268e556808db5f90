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
  const text = serialise(value, []);
  if (text === undefined) throw new TypeError("canonical JSON: the value itself is not serialisable");
  return text;
}

// Written for speed (every audit event and execution record passes through here on the request path): strings
// built by concatenation, and the open containers kept in an array, since documents are shallow.
function serialise(value: unknown, open: object[]): string | undefined {
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
      return value === null ? "null" : serialiseObject(value, open);
    default:
      // undefined, functions and symbols: left out of objects, null in arrays, as JSON.stringify does.
      return undefined;
  }
}

function serialiseObject(value: object, open: object[]): string | undefined {
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return serialise((value as { toJSON(): unknown }).toJSON(), open);
  }
  if (open.includes(value)) throw new TypeError("canonical JSON: the value contains a cycle");
  open.push(value);
  let text: string;
  if (Array.isArray(value)) {
    text = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ",";
      text += serialise(value[i], open) ?? "null";
    }
    text += "]";
  } else {
    text = "{";
    // Array.prototype.sort without a comparator orders by UTF-16 code units, which is what RFC 8785 asks for.
    for (const key of Object.keys(value).sort()) {
      const member = serialise((value as Record<string, unknown>)[key], open);
      if (member === undefined) continue;
      if (text.length > 1) text += ",";
      text += JSON.stringify(key) + ":" + member;
    }
    text += "}";
  }
  // Not in a finally: a throw abandons the whole serialisation, and with it this array.
  open.pop();
  return text;
}
