import { describe, expect, it } from "vitest";
import { MAX_SCHEMA_DEPTH } from "./grammar-limits.js";
import { checkSchemaDocument, parseStructuredOutput, validateAgainstSchema } from "./validator.js";

const PERSON = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 4 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    tags: { type: "array", items: { enum: ["a", "b"] }, uniqueItems: true },
  },
  required: ["name", "age"],
  additionalProperties: false,
};

describe("validateAgainstSchema", () => {
  it("accepts a valid value", () => {
    expect(validateAgainstSchema(PERSON, { name: "Ada", age: 36, tags: ["a"] })).toEqual({ valid: true });
  });

  it("reports every violation with its JSON pointer and keyword", () => {
    const result = validateAgainstSchema(PERSON, { name: "Grace", age: 200, tags: ["a", "a", "c"], extra: 1 });
    expect(result.valid).toBe(false);
    const violations = result.valid ? [] : result.violations;
    expect(violations.map(({ path, keyword }) => ({ path, keyword }))).toEqual(
      expect.arrayContaining([
        { path: "", keyword: "additionalProperties" },
        { path: "/name", keyword: "maxLength" },
        { path: "/age", keyword: "maximum" },
        { path: "/tags/2", keyword: "enum" },
        { path: "/tags", keyword: "uniqueItems" },
      ]),
    );
    expect(violations.find((violation) => violation.keyword === "additionalProperties")?.message).toContain('"extra"');
    expect(violations.find((violation) => violation.keyword === "enum")?.message).toContain('["a","b"]');
  });

  it("reports a missing required property at the object", () => {
    expect(validateAgainstSchema(PERSON, { name: "Ada" })).toEqual({
      valid: false,
      violations: [{ path: "", keyword: "required", message: "must have required property 'age'" }],
    });
  });

  it("counts string length in code points", () => {
    const schema = { type: "string", maxLength: 2 };
    expect(validateAgainstSchema(schema, "\u{1F600}\u{1F600}")).toEqual({ valid: true });
    expect(validateAgainstSchema(schema, "\u{1F600}\u{1F600}!").valid).toBe(false);
  });

  it("follows the schema's content, not its identity, when the same object is changed", () => {
    const schema: Record<string, unknown> = { type: "string", maxLength: 3 };
    expect(validateAgainstSchema(schema, "abc").valid).toBe(true);
    schema.maxLength = 2;
    expect(validateAgainstSchema(schema, "abc").valid).toBe(false);
  });

  it("keeps schemas that share an $id apart", () => {
    const first = { $id: "https://example.test/shared", type: "string" };
    const second = { $id: "https://example.test/shared", type: "integer" };
    expect(validateAgainstSchema(first, "x").valid).toBe(true);
    expect(validateAgainstSchema(second, "x").valid).toBe(false);
    expect(validateAgainstSchema(second, 1).valid).toBe(true);
  });

  it.each([
    ["draft-07", "http://json-schema.org/draft-07/schema#", "definitions"],
    ["2019-09", "https://json-schema.org/draft/2019-09/schema", "$defs"],
    ["2020-12", "https://json-schema.org/draft/2020-12/schema", "$defs"],
  ])("validates %s schemas", (_, dialect, definitions) => {
    const schema = {
      $schema: dialect,
      type: "object",
      properties: { n: { $ref: `#/${definitions}/small` } },
      [definitions]: { small: { type: "integer", maximum: 9 } },
    };
    expect(validateAgainstSchema(schema, { n: 9 })).toEqual({ valid: true });
    expect(validateAgainstSchema(schema, { n: 10 }).valid).toBe(false);
  });

  it("throws for a dialect it does not support", () => {
    expect(() => validateAgainstSchema({ $schema: "http://json-schema.org/draft-04/schema#" }, 1)).toThrow(/draft-04/);
  });

  it.each<[string, string[], string[]]>([
    ["date", ["2024-02-29", "2023-12-31"], ["2023-02-29", "2024-04-31", "2024-1-01", "2024-01-01T00:00:00Z"]],
    ["time", ["23:59:60Z", "08:30:00.25+05:30"], ["08:30:00", "24:00:00Z", "08:30Z"]],
    ["date-time", ["2024-01-31T08:30:00Z", "2024-01-31t08:30:00-01:00"], ["2024-01-31", "2024-02-30T08:30:00Z"]],
    ["uuid", ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000"], ["123e4567"]],
    ["email", ["ada@example.test", "a.b+c@x.io"], ["ada", "ada@", "@example.test", "a b@example.test"]],
    ["hostname", ["example.test", "localhost"], ["-bad.test", "a..b"]],
    ["uri", ["https://example.test/a?b=c", "urn:isbn:0451450523"], ["/relative/path", "no scheme", "http://a b"]],
    ["ipv4", ["192.168.0.1"], ["256.0.0.1", "1.2.3"]],
    ["ipv6", ["::1", "2001:db8::8a2e:370:7334"], ["2001:db8::g", "1.2.3.4"]],
  ])("checks format %s", (format, valid, invalid) => {
    const schema = { type: "string", format };
    const keywords = (value: string) => {
      const result = validateAgainstSchema(schema, value);
      return { value, keywords: result.valid ? [] : result.violations.map((violation) => violation.keyword) };
    };
    for (const value of valid) expect(keywords(value)).toEqual({ value, keywords: [] });
    for (const value of invalid) expect(keywords(value)).toEqual({ value, keywords: ["format"] });
  });
});

describe("parseStructuredOutput", () => {
  it("returns the parsed value when it is valid", () => {
    expect(parseStructuredOutput('{"name":"Ada","age":36}', PERSON)).toEqual({
      ok: true,
      value: { name: "Ada", age: 36 },
    });
  });

  it("reports text that is not JSON as one json violation", () => {
    const result = parseStructuredOutput('{"name":"Ada","age":3', PERSON);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.violations).toEqual([
      { path: "", keyword: "json", message: expect.stringMatching(/^not valid JSON: /) },
    ]);
  });

  it("reports schema violations of parsed JSON", () => {
    expect(parseStructuredOutput('{"name":"Ada","age":-1}', PERSON)).toEqual({
      ok: false,
      violations: [{ path: "/age", keyword: "minimum", message: "must be >= 0" }],
    });
  });
});

describe("checkSchemaDocument", () => {
  it("accepts a schema both ajv and the grammar compiler support", () => {
    expect(checkSchemaDocument(PERSON)).toEqual([]);
  });

  it("refuses a value that is not a schema object", () => {
    expect(checkSchemaDocument(true)).toEqual([{ path: "", keyword: "type", message: "a schema must be a JSON object" }]);
  });

  it("reports an invalid JSON Schema document at the offending place", () => {
    expect(checkSchemaDocument({ type: "object", properties: {}, additionalProperties: "no" })).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "/additionalProperties", keyword: "type" })]),
    );
    expect(checkSchemaDocument({ type: "object", properties: { a: { type: "text" } } })).toEqual([
      { path: "/properties/a", keyword: "type", message: 'unknown type "text"' },
    ]);
  });

  it("refuses nesting too deep to check, where it starts", () => {
    let schema: Record<string, unknown> = { type: "null" };
    for (let level = 0; level < 2000; level++) schema = { type: "array", items: schema };
    const violations = checkSchemaDocument(schema);
    expect(violations).toEqual([expect.objectContaining({ keyword: "schema" })]);
    expect(violations[0]!.path).toBe("/items".repeat(MAX_SCHEMA_DEPTH + 1));
  });

  it("reports what the grammar compiler cannot support, with pointer and keyword", () => {
    expect(
      checkSchemaDocument({ type: "object", properties: { tags: { type: "array", items: { type: "object" } } } }),
    ).toEqual([
      { path: "/properties/tags/items", keyword: "properties", message: "an object schema must list its properties" },
    ]);
    expect(checkSchemaDocument({ type: "object", properties: {}, patternProperties: { "^x": {} } })).toEqual([
      expect.objectContaining({ path: "", keyword: "patternProperties" }),
    ]);
  });

  it("reports a format nothing would check", () => {
    expect(checkSchemaDocument({ type: "string", format: "credit-card" })).toEqual([
      expect.objectContaining({ path: "", keyword: "format", message: expect.stringContaining("credit-card") }),
    ]);
  });

  it("reports what only ajv's compile catches", () => {
    expect(checkSchemaDocument({ type: "string", pattern: "(" })).toEqual([
      expect.objectContaining({ path: "", keyword: "schema", message: expect.stringContaining("missing closing )") }),
    ]);
  });

  it("refuses patterns the linear-time engine cannot run, saying why", () => {
    for (const pattern of ["^(?=a)a$", "(?<!x)y", "(a)\\1"]) {
      expect(checkSchemaDocument({ type: "string", pattern }), pattern).toEqual([
        expect.objectContaining({ keyword: "schema", message: expect.stringContaining("without lookaround or backreferences") }),
      ]);
    }
  });
});

describe("patterns", () => {
  it("checks a pattern that backtracks exponentially in V8's engine (^(a+)+$ on 5,000 characters) and answers", () => {
    // V8 would take ~2^5000 steps here: this test could only time out, never pass, on a backtracking engine.
    const schema = { type: "string", pattern: "^(a+)+$" };
    expect(validateAgainstSchema(schema, `${"a".repeat(5_000)}!`).valid).toBe(false);
    expect(validateAgainstSchema(schema, "a".repeat(5_000)).valid).toBe(true);
    expect(validateAgainstSchema({ type: "object", patternProperties: { "^(x+)+$": { type: "number" } } }, { [`${"x".repeat(5_000)}y`]: "text" }).valid).toBe(true);
  });

  it("keeps JSON Schema's pattern semantics: a search anywhere, Unicode classes, case as written", () => {
    expect(validateAgainstSchema({ type: "string", pattern: "\\d{3}-\\d{4}" }, "call 555-1234 now").valid).toBe(true);
    expect(validateAgainstSchema({ type: "string", pattern: "^[\\p{L} ]+$" }, "Zoë Ängström").valid).toBe(true);
    expect(validateAgainstSchema({ type: "string", pattern: "^[a-z]+$" }, "ABC").valid).toBe(false);
    expect(validateAgainstSchema({ type: "string", pattern: "^(?<year>\\d{4})-\\d{2}$" }, "2026-12").valid).toBe(true);
  });

  it("reports a dialect it does not support", () => {
    expect(checkSchemaDocument({ $schema: "http://json-schema.org/draft-04/schema#", type: "null" })).toEqual([
      expect.objectContaining({ path: "/$schema", keyword: "$schema" }),
    ]);
  });
});
