import { createHash } from "node:crypto";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, Options, ValidateFunction } from "ajv";
import type * as ajvCore from "ajv/dist/core.js";
import { RE2JS } from "re2js";
import { FORMAT_VALIDATORS } from "./formats.js";
import { compileJsonSchemaToGbnf } from "./json-schema-grammar.js";
import { isPlainObject } from "./json-values.js";
import { UnsupportedSchemaError } from "./unsupported-schema-error.js";

export interface Violation {
  /** JSON pointer into the value checked: the output, or the schema document for checkSchemaDocument. */
  path: string;
  message: string;
  keyword: string;
}

export type ValidationResult = { valid: true } | { valid: false; violations: Violation[] };
export type ParsedOutput = { ok: true; value: unknown } | { ok: false; violations: Violation[] };

/**
 * The engine of every `pattern` and `patternProperties` key: RE2's, which runs in time linear in the text. Schemas
 * come from callers, and V8's backtracking engine takes exponential time on patterns such as `^(a+)+$` (41 s for a
 * 30-character answer, on the event loop every request shares). RE2 has no lookaround or backreferences: a schema
 * using them is refused as unusable (`schema_invalid`, saying so) rather than checked slowly.
 */
function linearRegExp(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error) {
    throw new Error(`pattern ${JSON.stringify(pattern)} is not supported: ${(error as Error).message} (patterns are matched in linear time, without lookaround or backreferences)`);
  }
  return { test: (text) => compiled.test(text), toString: () => `/${pattern}/${flags}` };
}
// What ajv would write for it in standalone code, which Atomic never generates.
linearRegExp.code = "re2js";

const AJV_OPTIONS: Options = {
  allErrors: true,
  // Unknown keywords and formats are errors rather than silently unchecked; the type-combination warnings of
  // strict mode would only fire for ordinary schemas (`type: ["string", "null"]`), so those stay off.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  // Schemas are compiled one by one and dropped from ajv's registry afterwards; registering their $id would make
  // two different schemas that share an $id collide.
  addUsedSchema: false,
  code: { regExp: linearRegExp },
};

/** The base class of every ajv dialect. */
type AjvCore = ajvCore.default;

const DEFAULT_DIALECT = "https://json-schema.org/draft/2020-12/schema";
const DIALECTS: Readonly<Record<string, () => AjvCore>> = {
  [DEFAULT_DIALECT]: () => new Ajv2020(AJV_OPTIONS),
  "https://json-schema.org/draft/2019-09/schema": () => new Ajv2019(AJV_OPTIONS),
  "http://json-schema.org/draft-07/schema": () => new Ajv(AJV_OPTIONS),
};

const ajvByDialect = new Map<string, AjvCore>();

/** The ajv instance for the schema's `$schema` (2020-12 when absent), or undefined for a dialect not supported. */
function ajvFor(schema: Record<string, unknown>): AjvCore | undefined {
  const declared = schema.$schema;
  const dialect =
    declared === undefined ? DEFAULT_DIALECT : typeof declared === "string" ? declared.replace(/#$/, "") : "";
  const create = Object.hasOwn(DIALECTS, dialect) ? DIALECTS[dialect] : undefined;
  if (create === undefined) return undefined;
  let ajv = ajvByDialect.get(dialect);
  if (ajv === undefined) {
    ajv = create();
    for (const [name, validate] of Object.entries(FORMAT_VALIDATORS)) ajv.addFormat(name, { type: "string", validate });
    ajvByDialect.set(dialect, ajv);
  }
  return ajv;
}

function unsupportedDialect(schema: Record<string, unknown>): Violation {
  return {
    path: "/$schema",
    keyword: "$schema",
    message: `unsupported dialect ${JSON.stringify(schema.$schema)}; use one of ${Object.keys(DIALECTS).join(", ")}`,
  };
}

/** JSON with sorted keys: equal schemas get equal digests whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Compiled validators by schema digest. Requests carry schemas too, so the cache drops its oldest past the cap. */
const VALIDATOR_CACHE_LIMIT = 512;
const validators = new Map<string, ValidateFunction>();

/** @throws Error when the schema does not compile: check it with checkSchemaDocument first. */
function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const digest = createHash("sha256").update(canonicalJson(schema)).digest("hex");
  const cached = validators.get(digest);
  if (cached !== undefined) {
    validators.delete(digest);
    validators.set(digest, cached);
    return cached;
  }
  const ajv = ajvFor(schema);
  if (ajv === undefined) throw new Error(unsupportedDialect(schema).message);
  // ajv keeps every compiled schema object for reuse; the clone is removed again so the registry does not grow.
  const copy = structuredClone(schema);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(copy);
  } finally {
    ajv.removeSchema(copy);
  }
  validators.set(digest, validate);
  if (validators.size > VALIDATOR_CACHE_LIMIT) validators.delete(validators.keys().next().value!);
  return validate;
}

function toViolation(error: ErrorObject): Violation {
  const params = error.params as Record<string, unknown>;
  const detail =
    error.keyword === "additionalProperties"
      ? ` (${JSON.stringify(params.additionalProperty)})`
      : error.keyword === "enum"
        ? ` (${JSON.stringify(params.allowedValues)})`
        : error.keyword === "const"
          ? ` (${JSON.stringify(params.allowedValue)})`
          : "";
  return { path: error.instancePath, keyword: error.keyword, message: `${error.message ?? "is invalid"}${detail}` };
}

/**
 * Checks a value against a JSON Schema (2020-12 unless `$schema` names 2019-09 or draft-07).
 * @throws Error when the schema itself does not compile.
 */
export function validateAgainstSchema(schema: Record<string, unknown>, value: unknown): ValidationResult {
  const validate = validatorFor(schema);
  if (validate(value)) return { valid: true };
  return { valid: false, violations: (validate.errors ?? []).map(toViolation) };
}

/** Parses model output as JSON and validates it; text that is not JSON is a single `json` violation. */
export function parseStructuredOutput(text: string, schema: Record<string, unknown>): ParsedOutput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = `not valid JSON: ${(error as Error).message}`;
    return { ok: false, violations: [{ path: "", keyword: "json", message }] };
  }
  const result = validateAgainstSchema(schema, value);
  return result.valid ? { ok: true, value } : { ok: false, violations: result.violations };
}

/**
 * What is wrong with a schema offered for structured output, one stage at a time: beyond what the grammar compiler
 * supports (which also bounds the nesting that ajv's recursion would choke on), then not a valid JSON Schema
 * document, then refused by ajv's strict compile (an invalid pattern, say). Paths point into the schema document.
 * An empty list means the schema can be used.
 */
export function checkSchemaDocument(schema: unknown): Violation[] {
  if (!isPlainObject(schema)) return [{ path: "", keyword: "type", message: "a schema must be a JSON object" }];
  const ajv = ajvFor(schema);
  if (ajv === undefined) return [unsupportedDialect(schema)];
  try {
    compileJsonSchemaToGbnf(schema);
  } catch (error) {
    if (!(error instanceof UnsupportedSchemaError)) throw error;
    return [{ path: error.pointer, keyword: error.keyword, message: error.reason }];
  }
  if (!ajv.validateSchema(schema)) return (ajv.errors ?? []).map(toViolation);
  try {
    validatorFor(schema);
  } catch (error) {
    return [{ path: "", keyword: "schema", message: (error as Error).message }];
  }
  return [];
}
