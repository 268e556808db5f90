import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  getLlama,
  LlamaCompletion,
  LlamaGrammarEvaluationState,
  type Llama,
  type LlamaContext,
  type LlamaModel,
} from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestModel } from "../models/test-model.js";
import {
  compileJsonSchemaToGbnf,
  DEFAULT_MAX_ITEMS,
  DEFAULT_MAX_STRING_LENGTH,
  JSON_OBJECT_GRAMMAR,
  JSON_OBJECT_LIMITS,
  MAX_REPETITIONS,
  UnsupportedSchemaError,
} from "./index.js";
import { MAX_INDENT } from "./gbnf.js";
import { MAX_ALTERNATIVES, MAX_DECLARED_PROPERTIES, MAX_LISTED_VALUES } from "./grammar-limits.js";
import { validateAgainstSchema } from "./validator.js";

type Schema = Record<string, unknown>;

function unsupported(schema: Schema): UnsupportedSchemaError {
  try {
    compileJsonSchemaToGbnf(schema);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) return error;
    throw error;
  }
  throw new Error("expected the schema to be refused");
}

/** Texts a grammar must accept (each also valid for the schema) and texts it must refuse. */
interface GrammarCase {
  name: string;
  schema: Schema;
  accepts: string[];
  rejects: string[];
}

const GRAMMAR_CASES: GrammarCase[] = [
  {
    name: "integer",
    schema: { type: "integer" },
    accepts: ["0", "7", "-42", "123456789012345", "-123456789012345"],
    rejects: ["-0", "007", "1e5", "1.0", "1234567890123456", "+1", " 1", "1 "],
  },
  {
    name: "integer with minimum 0",
    schema: { type: "integer", minimum: 0 },
    accepts: ["0", "15"],
    rejects: ["-1"],
  },
  {
    name: "integer within 0..999",
    schema: { type: "integer", minimum: 0, maximum: 999 },
    accepts: ["0", "999"],
    rejects: ["1000", "-5"],
  },
  {
    name: "negative integer",
    schema: { type: "integer", exclusiveMaximum: 0 },
    accepts: ["-3"],
    rejects: ["0", "3"],
  },
  {
    name: "number",
    schema: { type: "number" },
    accepts: ["0", "-0.5", "3.141592", "12", "-123456789012345.123456"],
    rejects: ["1e5", "1E5", "1.", ".5", "01.5", "1.1234567", "Infinity", "NaN"],
  },
  {
    name: "bounded string",
    schema: { type: "string", minLength: 2, maxLength: 4 },
    accepts: ['"ab"', '"a b"', '"a\\"b"', '"\\\\\\\\"', '"~!#["'],
    rejects: ['"a"', '"abcde"', '"\u00e9"', '"\\n"', '"\\u0041"', '"a\tb"', "'ab'"],
  },
  { name: "boolean", schema: { type: "boolean" }, accepts: ["true", "false"], rejects: ["True", "1"] },
  { name: "null", schema: { type: "null" }, accepts: ["null"], rejects: ["nul", '"null"'] },
  {
    name: "enum of any JSON values, spelled in ASCII",
    schema: { enum: ['a"b', "\u00e9", 1, null, { k: [1] }] },
    accepts: ['"a\\"b"', '"\\u00e9"', "1", "null", '{"k":[1]}'],
    rejects: ['"\u00e9"', '"a"', "2", '{"k": [1]}'],
  },
  {
    name: "enum filtered by type",
    schema: { type: "string", enum: ["x", 1] },
    accepts: ['"x"'],
    rejects: ["1"],
  },
  { name: "const", schema: { const: "fixed" }, accepts: ['"fixed"'], rejects: ['"other"'] },
  {
    name: "array with minItems and maxItems",
    schema: { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1, maxItems: 3 },
    accepts: ["[1]", "[1,2,3]", "[1, 2]"],
    rejects: ["[]", "[1,2,3,4]", "[1 ,2]", "[1,]", "[-1]"],
  },
  {
    name: "array that may be empty",
    schema: { type: "array", items: { type: "boolean" }, maxItems: 2 },
    accepts: ["[]", "[true,false]"],
    rejects: ["[true,false,true]"],
  },
  {
    name: "object in declared order, optional properties included",
    schema: {
      type: "object",
      properties: { b: { type: "boolean" }, a: { type: "null" } },
      required: ["b"],
      additionalProperties: false,
    },
    accepts: ['{"b":true,"a":null}'],
    rejects: ['{"a":null,"b":true}', '{"b":true}', '{"b":true,"a":null,"c":1}', "{}"],
  },
  {
    name: "object laid out as models write it",
    schema: { type: "object", properties: { b: { type: "boolean" }, a: { type: "array", items: { type: "integer" }, maxItems: 2 } } },
    accepts: ['{ "b": true, "a": [1, 2] }', '{\n  "b": true,\n  "a": [\n    1,\n    2\n  ]\n}', `{\n${" ".repeat(MAX_INDENT)}"b":true,"a":[]}`],
    rejects: [' {"b":true,"a":[]}', '{"b" :true,"a":[]}', '{"b":true ,"a":[]}', '{\t"b":true,"a":[]}', `{\n${" ".repeat(MAX_INDENT + 1)}"b":true,"a":[]}`, '{  "b":true,"a":[]}'],
  },
  {
    name: "object with no properties",
    schema: { type: "object", properties: {} },
    accepts: ["{}"],
    rejects: ['{"a":1}'],
  },
  {
    name: "nullable string through a type array",
    schema: { type: ["string", "null"], maxLength: 2 },
    accepts: ['"ab"', "null"],
    rejects: ['"abc"', "1"],
  },
  {
    name: "anyOf",
    schema: { anyOf: [{ type: "integer", minimum: 0 }, { type: "number" }], description: "ignored" },
    accepts: ["5", "-1.5"],
    rejects: ['"5"'],
  },
  {
    name: "oneOf of disjoint types",
    schema: { oneOf: [{ type: "string", maxLength: 1 }, { type: "integer", minimum: 0 }] },
    accepts: ['"a"', "5"],
    rejects: ["-5", "null"],
  },
  {
    name: "oneOf of distinct constants",
    schema: { oneOf: [{ const: "a", title: "A" }, { const: "b", title: "B" }] },
    accepts: ['"a"', '"b"'],
    rejects: ['"c"'],
  },
  {
    name: "$ref into $defs and definitions",
    schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://example.test/point",
      type: "object",
      properties: { x: { $ref: "#/$defs/digit" }, y: { $ref: "#/definitions/digit", description: "y" } },
      $defs: { digit: { type: "integer", minimum: 0, maximum: 9 } },
      definitions: { digit: { type: "integer", minimum: 0, maximum: 9 } },
    },
    accepts: ['{"x":5,"y":9}'],
    rejects: ['{"x":10,"y":9}'],
  },
  {
    name: "allOf of a single schema",
    schema: { allOf: [{ type: "boolean" }], title: "wrapped" },
    accepts: ["true"],
    rejects: ["null"],
  },
  {
    name: "date format",
    schema: { type: "string", format: "date" },
    accepts: ['"2024-02-28"', '"1999-12-31"'],
    rejects: ['"2024-02-30"', '"2024-13-01"', '"2024-04-31"', '"24-01-01"'],
  },
  {
    name: "date-time format",
    schema: { type: "string", format: "date-time" },
    accepts: ['"2024-01-31T23:59:59.5+05:30"', '"2024-01-31T00:00:00Z"'],
    rejects: ['"2024-01-31T24:00:00Z"', '"2024-01-31T00:00:00"'],
  },
  {
    name: "uuid format",
    schema: { type: "string", format: "uuid" },
    accepts: ['"123e4567-e89b-12d3-a456-426614174000"'],
    rejects: ['"123e4567-e89b-12d3-a456-42661417400"'],
  },
  {
    name: "ipv4 format",
    schema: { type: "string", format: "ipv4" },
    accepts: ['"255.0.10.1"'],
    rejects: ['"256.1.1.1"', '"01.1.1.1"'],
  },
  {
    name: "keywords checked only after generation",
    schema: { type: "string", maxLength: 5, pattern: "^a", format: "email" },
    accepts: ['"a@b.c"'],
    rejects: ['"abcdef"'],
  },
];

/** Schemas beyond GRAMMAR_CASES whose grammars llama.cpp must also accept. */
const LARGE_SCHEMAS: Schema[] = [
  { type: "string", maxLength: MAX_REPETITIONS },
  { type: "string", minLength: MAX_REPETITIONS },
  { type: "string", maxLength: 1_000_000 },
  {
    type: "array",
    maxItems: 100_000,
    items: { type: "object", properties: { s: { type: "string", maxLength: 1000 }, n: { type: "number" } } },
  },
];

describe("compileJsonSchemaToGbnf", () => {
  it("starts at a rule named root and names every rule with a GBNF identifier, once", () => {
    for (const schema of [...GRAMMAR_CASES.map((testCase) => testCase.schema), ...LARGE_SCHEMAS]) {
      const lines = compileJsonSchemaToGbnf(schema).grammar.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^root ::= /);
      const names = lines.map((line) => /^([a-zA-Z0-9-]+) ::= /.exec(line)?.[1]);
      expect(names).not.toContain(undefined);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it.each([
    [{ type: "string", maxLength: 5 }, 2 + 2 * 5],
    [{ type: "string" }, 2 + 2 * DEFAULT_MAX_STRING_LENGTH],
    [{ type: "string", maxLength: 1_000_000 }, 2 + 2 * MAX_REPETITIONS],
    [{ type: "integer" }, 16],
    [{ type: "integer", minimum: 0 }, 15],
    [{ type: "integer", minimum: 0, maximum: 999 }, 3],
    [{ type: "integer", minimum: -20, maximum: 5 }, 3],
    [{ type: "number" }, 1 + 15 + 1 + 6],
    [{ type: "boolean" }, 5],
    [{ type: "null" }, 4],
    [{ enum: ["a", "bcd"] }, 5],
    // Layout: at most one line break and MAX_INDENT spaces after an opening bracket, a colon or a comma, and
    // before a closing bracket.
    [{ type: "array", items: { type: "boolean" }, maxItems: 3 }, 2 + 3 * 5 + 2 + 4 * (1 + MAX_INDENT)],
    [{ type: "array", items: { type: "boolean" } }, 2 + DEFAULT_MAX_ITEMS * 5 + DEFAULT_MAX_ITEMS - 1 + (DEFAULT_MAX_ITEMS + 1) * (1 + MAX_INDENT)],
    [{ type: "object", properties: { a: { type: "boolean" }, b: { type: "null" } } }, '{"a":false,"b":null}'.length + 5 * (1 + MAX_INDENT)],
    [{ type: "string", format: "date" }, '"2024-01-01"'.length],
  ])("bounds the output of %j at %i characters", (schema, maxOutputChars) => {
    expect(compileJsonSchemaToGbnf(schema).maxOutputChars).toBe(maxOutputChars);
  });

  it("defines a sub-schema used several times once", () => {
    const digit = { type: "integer", minimum: 0, maximum: 9 };
    const { grammar } = compileJsonSchemaToGbnf({
      type: "object",
      properties: {
        a: { type: "string", maxLength: 8 },
        b: { type: "string", maxLength: 8 },
        c: { $ref: "#/$defs/digit" },
        d: { $ref: "#/$defs/digit" },
        e: digit,
      },
      $defs: { digit },
    });
    expect(grammar.match(/char\{0,8\}/g)).toHaveLength(1);
    expect(grammar.match(/\[1-9\]/g)).toHaveLength(1);
  });

  it("emits ASCII only", () => {
    const { grammar } = compileJsonSchemaToGbnf({ type: "object", properties: { "\u00fcber": { const: "\u{1F600}" } } });
    expect(grammar).toMatch(/^[\x20-\x7e\n]*$/);
    expect(grammar).toContain(String.raw`\\u00fcber`);
    expect(grammar).toContain(String.raw`\\ud83d\\ude00`);
  });
});

describe("compileJsonSchemaToGbnf refuses what it cannot bound or enforce", () => {
  const recursive = {
    $ref: "#/$defs/node",
    $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } },
  };
  it.each<[string, Schema, string, string]>([
    ["patternProperties", { type: "object", properties: {}, patternProperties: { x: {} } }, "", "patternProperties"],
    ["if/then/else", { type: "object", properties: {}, if: {}, then: {} }, "", "if"],
    ["not", { type: "string", not: { const: "x" } }, "", "not"],
    ["dependentSchemas", { type: "object", properties: {}, dependentSchemas: {} }, "", "dependentSchemas"],
    ["prefixItems", { type: "array", prefixItems: [{ type: "null" }], items: { type: "null" } }, "", "prefixItems"],
    ["an unknown keyword", { type: "string", nullable: true }, "", "nullable"],
    ["an object without properties", { type: "object" }, "", "properties"],
    [
      "an untyped array item",
      { type: "object", properties: { tags: { type: "array", items: {} } } },
      "/properties/tags/items",
      "type",
    ],
    ["an array without items", { type: "object", properties: { x: { type: "array" } } }, "/properties/x", "items"],
    ["tuple items", { type: "array", items: [{ type: "null" }] }, "", "items"],
    ["a boolean schema", { type: "object", properties: { "a/b": true } }, "/properties/a~1b", "schema"],
    ["a recursive $ref", recursive, "/$defs/node/properties/next", "$ref"],
    ["a $ref to the root", { type: "object", properties: { self: { $ref: "#" } } }, "/properties/self", "$ref"],
    ["a remote $ref", { $ref: "https://example.test/schema.json" }, "", "$ref"],
    ["a $ref that does not resolve", { $ref: "#/$defs/missing" }, "", "$ref"],
    ["a $ref beside type", { $ref: "#/$defs/a", type: "null", $defs: { a: { type: "null" } } }, "", "$ref"],
    ["a nested $id", { type: "object", properties: { a: { $id: "x", type: "null" } } }, "/properties/a", "$id"],
    ["oneOf of overlapping types", { oneOf: [{ type: "integer" }, { type: "number" }] }, "", "oneOf"],
    ["oneOf of overlapping values", { oneOf: [{ const: "a" }, { enum: ["b", "a"] }] }, "", "oneOf"],
    ["oneOf of a value and its type", { oneOf: [{ const: 1 }, { type: "number" }] }, "", "oneOf"],
    ["anyOf beside type", { type: "object", anyOf: [{ type: "null" }] }, "", "anyOf"],
    ["an empty anyOf", { anyOf: [] }, "", "anyOf"],
    ["allOf of two schemas", { allOf: [{ type: "null" }, { type: "null" }] }, "", "allOf"],
    ["an undeclared required property", { type: "object", properties: {}, required: ["a"] }, "", "required"],
    ["maxProperties below the declared count", { type: "object", properties: { a: { type: "null" } }, maxProperties: 0 }, "", "maxProperties"],
    ["minProperties above the declared count", { type: "object", properties: {}, minProperties: 1 }, "", "minProperties"],
    ["minLength above maxLength", { type: "string", minLength: 3, maxLength: 2 }, "", "minLength"],
    ["minLength beyond llama.cpp's repetition limit", { type: "string", minLength: MAX_REPETITIONS + 1 }, "", "minLength"],
    ["minItems above maxItems", { type: "array", items: { type: "null" }, minItems: 2, maxItems: 1 }, "", "minItems"],
    ["a malformed maxLength", { type: "string", maxLength: -1 }, "", "maxLength"],
    ["a malformed minimum", { type: "integer", minimum: "0" }, "", "minimum"],
    ["integer bounds with no integer between", { type: "integer", minimum: 0.2, maximum: 0.8 }, "", "minimum"],
    ["crossed number bounds", { type: "number", exclusiveMinimum: 5, maximum: 3 }, "", "exclusiveMinimum"],
    ["an unknown format", { type: "string", format: "credit-card" }, "", "format"],
    ["no type", { properties: {} }, "", "type"],
    ["an unknown type", { type: "date" }, "", "type"],
    ["an enum with no value of the type", { type: "integer", enum: ["a"] }, "", "enum"],
    ["a const outside the enum", { const: "a", enum: ["b"] }, "", "const"],
    ["oneOf whose overlap is between later alternatives", { oneOf: [{ const: "a" }, { type: "integer" }, { const: "b" }, { enum: ["c", 2] }] }, "", "oneOf"],
    ["more anyOf alternatives than supported", { anyOf: Array.from({ length: MAX_ALTERNATIVES + 1 }, (_, i) => ({ const: i })) }, "", "anyOf"],
    ["more enum values than supported", { enum: Array.from({ length: MAX_LISTED_VALUES + 1 }, (_, i) => i) }, "", "enum"],
    ["more enum values than supported, over several enums", {
      type: "object", properties: { a: { enum: Array.from({ length: MAX_LISTED_VALUES }, (_, i) => i) }, b: { enum: ["x"] } },
    }, "/properties/b", "enum"],
    ["a union of references producing more values than supported", {
      $defs: { d: { enum: Array.from({ length: MAX_LISTED_VALUES / 2 }, (_, i) => i) } }, anyOf: [{ $ref: "#/$defs/d" }, { $ref: "#/$defs/d" }, { $ref: "#/$defs/d" }],
    }, "", "anyOf"],
    ["more object properties than supported", {
      type: "object", properties: { a: { type: "object", properties: Object.fromEntries(Array.from({ length: MAX_DECLARED_PROPERTIES }, (_, i) => [`p${i}`, { type: "null" }])) }, b: { type: "null" } },
    }, "/properties/a", "properties"],
  ])("refuses %s", (_, schema, pointer, keyword) => {
    const error = unsupported(schema);
    expect({ pointer: error.pointer, keyword: error.keyword }).toEqual({ pointer, keyword });
    expect(error.message).toContain(`"${keyword}"`);
    expect(error.message).toContain(`#${pointer}`);
  });
});

describe("grammars in llama.cpp", () => {
  let directory: string;
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;
  let completion: LlamaCompletion;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "atomic-structured-"));
    const modelPath = join(directory, "test-model.gguf");
    writeFileSync(modelPath, buildTestModel());
    llama = await getLlama({ build: "never", gpu: false, maxThreads: 1 });
    model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 4096 });
    completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  });

  afterAll(async () => {
    completion?.dispose();
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    rmSync(directory, { recursive: true, force: true });
  });

  /**
   * Whether llama.cpp's grammar matcher accepts exactly `text`. node-llama-cpp has no public call for this, so
   * it steps its internal sampler bindings (pinned version) token by token; the test model has one token per
   * ASCII character, and the end-of-sequence token is allowed only once the grammar is complete.
   */
  async function grammarAccepts(grammarText: string, text: string): Promise<boolean> {
    const grammar = await llama.createGrammar({ grammar: grammarText });
    const state = new LlamaGrammarEvaluationState({ model, grammar });
    const sampler = (llama as unknown as { _bindings: { AddonSampler: GrammarStepper } })._bindings.AddonSampler;
    const native = (state as unknown as { _state: unknown })._state;
    for (const token of model.tokenize(text, false, "trimLeadingSpace")) {
      if (!sampler.canBeNextTokenForGrammarEvaluationState(native, token)) return false;
      sampler.acceptGrammarEvaluationStateToken(native, token);
    }
    return sampler.canBeNextTokenForGrammarEvaluationState(native, model.tokens.eos!);
  }

  it("accepts every grammar the compiler produces", async () => {
    const grammars = [
      ...[...GRAMMAR_CASES.map((testCase) => testCase.schema), ...LARGE_SCHEMAS].map(
        (schema) => compileJsonSchemaToGbnf(schema).grammar,
      ),
      JSON_OBJECT_GRAMMAR.grammar,
    ];
    for (const grammar of grammars) await expect(llama.createGrammar({ grammar })).resolves.toBeDefined();
  });

  it.each(GRAMMAR_CASES)("$name: matches exactly the intended texts", async ({ schema, accepts, rejects }) => {
    const { grammar } = compileJsonSchemaToGbnf(schema);
    for (const text of accepts) {
      expect({ text, accepted: await grammarAccepts(grammar, text) }).toEqual({ text, accepted: true });
      expect({ text, validation: validateAgainstSchema(schema, JSON.parse(text)) }).toEqual({
        text,
        validation: { valid: true },
      });
    }
    for (const text of rejects) {
      expect({ text, accepted: await grammarAccepts(grammar, text) }).toEqual({ text, accepted: false });
    }
  });

  it("json_object grammar: nests up to its depth, no deeper", async () => {
    const nested = (depth: number): string => (depth === 0 ? "1" : `{"k":${nested(depth - 1)}}`);
    expect(await grammarAccepts(JSON_OBJECT_GRAMMAR.grammar, nested(JSON_OBJECT_LIMITS.depth))).toBe(true);
    expect(await grammarAccepts(JSON_OBJECT_GRAMMAR.grammar, nested(JSON_OBJECT_LIMITS.depth + 1))).toBe(false);
    expect(await grammarAccepts(JSON_OBJECT_GRAMMAR.grammar, '[{"k":1}]')).toBe(false);
  });

  const GENERATION_SCHEMA: Schema = {
    type: "object",
    properties: {
      id: { type: "integer" },
      count: { type: "integer", minimum: 0 },
      percent: { type: "integer", minimum: 0, maximum: 999 },
      score: { type: "number" },
      name: { type: "string", minLength: 1, maxLength: 12 },
      color: { enum: ["red", "green", 'say "blue"', "gr\u00fcn"] },
      tags: { type: "array", items: { type: "string", maxLength: 6 }, minItems: 1, maxItems: 4 },
      owner: {
        type: "object",
        properties: {
          active: { type: "boolean" },
          nickname: { type: ["string", "null"], maxLength: 8 },
          joined: { type: "string", format: "date" },
          scores: { type: "array", items: { type: "integer", minimum: 0 }, maxItems: 3 },
        },
        required: ["active"],
      },
    },
    required: ["id", "name", "tags"],
    additionalProperties: false,
  };

  async function generate(grammarText: string, maxOutputChars: number, seed: number): Promise<string> {
    return completion.generateCompletion("JSON:", {
      grammar: await llama.createGrammar({ grammar: grammarText }),
      // One character per token in this vocabulary; the margin covers the end-of-sequence token.
      maxTokens: maxOutputChars + 8,
      temperature: 0.9,
      seed,
    });
  }

  it("50 seeded generations all satisfy the schema", async () => {
    const { grammar, maxOutputChars } = compileJsonSchemaToGbnf(GENERATION_SCHEMA);
    const outputs: string[] = [];
    for (let seed = 0; seed < 50; seed++) outputs.push(await generate(grammar, maxOutputChars, seed));
    for (const output of outputs) {
      expect(output.length).toBeLessThanOrEqual(maxOutputChars);
      expect({ output, result: validateAgainstSchema(GENERATION_SCHEMA, JSON.parse(output)) }).toEqual({
        output,
        result: { valid: true },
      });
    }
    // Noise from random weights still varies with the seed.
    expect(new Set(outputs).size).toBeGreaterThan(40);
  });

  it("50 seeded json_object generations are all JSON objects", async () => {
    for (let seed = 0; seed < 50; seed++) {
      const output = await generate(JSON_OBJECT_GRAMMAR.grammar, JSON_OBJECT_GRAMMAR.maxOutputChars, seed);
      expect(output.length).toBeLessThanOrEqual(JSON_OBJECT_GRAMMAR.maxOutputChars);
      const value: unknown = JSON.parse(output);
      expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
    }
  });
});

interface GrammarStepper {
  canBeNextTokenForGrammarEvaluationState(state: unknown, token: number): boolean;
  acceptGrammarEvaluationStateToken(state: unknown, token: number): void;
}
