import { formatGrammar } from "./format-grammars.js";
import { alternation, concat, delimitedList, GbnfRules, literal, whitespace, type Fragment } from "./gbnf.js";
import { DEFAULT_MAX_ITEMS, DEFAULT_MAX_STRING_LENGTH, MAX_ALTERNATIVES, MAX_DECLARED_PROPERTIES, MAX_LISTED_VALUES, MAX_SCHEMA_DEPTH } from "./grammar-limits.js";
import { appendPointer, pointerBeyondDepth, resolvePointer } from "./json-pointer.js";
import { asciiJson, isPlainObject, jsonTypeOf, valueHasType, type JsonType } from "./json-values.js";
import { lengthRange, numericBounds, readCount } from "./keyword-values.js";
import { booleanGrammar, integerGrammar, NULL_GRAMMAR, numberGrammar, stringGrammar } from "./scalar-grammars.js";
import { assertSupportedKeywords, SHAPING_KEYWORDS } from "./schema-keywords.js";
import { UnsupportedSchemaError } from "./unsupported-schema-error.js";

export interface CompiledGrammar {
  /** llama.cpp GBNF whose start rule is `root`. */
  grammar: string;
  /**
   * The most characters any output the grammar allows can have. Every part of the grammar is bounded, so this is
   * always finite; the output is ASCII, so no token carries less than one character of it.
   */
  maxOutputChars: number;
}

/**
 * Compiles a JSON Schema into a strict GBNF grammar for ASCII-only JSON, compact or laid out as models habitually
 * write it (see `whitespace`).
 *
 * Objects emit every declared property, optional ones included, in declared order, and never any other property:
 * always emitting is the one choice that is valid for every `required` list without making the grammar branch on
 * each optional property. Keywords the grammar cannot express exactly (numeric ranges beyond digit counts,
 * multipleOf, pattern, most formats, uniqueItems) make it looser; the validator checks the output against them.
 *
 * `rulePrefix` starts every rule name but `root` (see GbnfRules).
 *
 * @throws UnsupportedSchemaError for any part of the schema the grammar cannot bound or enforce.
 */
export function compileJsonSchemaToGbnf(schema: Record<string, unknown>, options: { rulePrefix?: string } = {}): CompiledGrammar {
  const tooDeep = pointerBeyondDepth(schema, MAX_SCHEMA_DEPTH);
  if (tooDeep !== undefined) {
    throw new UnsupportedSchemaError(tooDeep, "schema", `nested more than ${MAX_SCHEMA_DEPTH} levels deep`);
  }
  const compiler = new SchemaCompiler(schema, new GbnfRules(options.rulePrefix));
  const root = compiler.compile(schema, "");
  return { grammar: compiler.rules.render(root), maxOutputChars: root.maxChars };
}

/** What a compiled schema can produce: a type, or one exact value when `json` is set. */
interface Produced {
  type: JsonType;
  json?: string;
}

interface CompiledSchema extends Fragment {
  /** Kept to tell whether oneOf alternatives are disjoint. */
  readonly produces: readonly Produced[];
}

/** A readable rule name hint from the last two meaningful pointer segments. */
function nameHint(pointer: string, kind: string): string {
  const segments = pointer.split("/").filter((segment) => segment !== "" && segment !== "properties");
  return [...segments.slice(-2), kind].join("-");
}

class SchemaCompiler {
  private readonly compiledRefs = new Map<string, CompiledSchema>();
  /** The root counts as in progress, so that "#" is caught as recursion like any other cycle. */
  private readonly refsInProgress = new Set<string>([""]);
  /** Enum and const values and object properties compiled so far, against MAX_LISTED_VALUES and MAX_DECLARED_PROPERTIES. */
  private listedValues = 0;
  private declaredProperties = 0;

  constructor(private readonly document: Record<string, unknown>, readonly rules: GbnfRules) {}

  compile(schema: unknown, pointer: string): CompiledSchema {
    if (!isPlainObject(schema)) {
      throw new UnsupportedSchemaError(pointer, "schema", `expected a schema object, got ${JSON.stringify(schema)}`);
    }
    assertSupportedKeywords(schema, pointer);
    if ("$ref" in schema) return this.compileRef(schema, pointer);
    if ("allOf" in schema) return this.compileAllOf(schema, pointer);
    if ("anyOf" in schema || "oneOf" in schema) return this.compileAlternatives(schema, pointer);
    if ("const" in schema || "enum" in schema) return this.compileValues(schema, pointer);
    const type = schema.type;
    if (typeof type === "string") return this.compileType(schema, type, pointer);
    if (Array.isArray(type) && type.length > 0) {
      const members = type.map((member) => this.compileType(schema, member, pointer));
      return this.union(members, nameHint(pointer, "types"), pointer, "type");
    }
    throw new UnsupportedSchemaError(
      pointer,
      "type",
      "declare a type (or const, enum, anyOf, oneOf, $ref): a schema without one allows values of any shape",
    );
  }

  /** Composition keywords replace the grammar of their schema, so a shaping keyword beside them would be ignored. */
  private assertAlone(schema: Record<string, unknown>, pointer: string, keyword: string): void {
    const sibling = Object.keys(schema).find((other) => other !== keyword && SHAPING_KEYWORDS.has(other));
    if (sibling !== undefined) {
      const reason = `cannot be combined with "${sibling}"; move "${sibling}" inside`;
      throw new UnsupportedSchemaError(pointer, keyword, reason);
    }
  }

  private compileRef(schema: Record<string, unknown>, pointer: string): CompiledSchema {
    this.assertAlone(schema, pointer, "$ref");
    const ref = schema.$ref;
    const target = typeof ref === "string" ? localRefPointer(ref) : undefined;
    if (target === undefined) {
      const reason = "only references inside this schema (#/$defs/...) are supported";
      throw new UnsupportedSchemaError(pointer, "$ref", reason);
    }
    if (this.refsInProgress.has(target)) {
      const reason = `recursive reference to ${String(ref)}: its output would have no bound`;
      throw new UnsupportedSchemaError(pointer, "$ref", reason);
    }
    const cached = this.compiledRefs.get(target);
    if (cached !== undefined) return cached;
    const resolved = resolvePointer(this.document, target);
    if (resolved === undefined) throw new UnsupportedSchemaError(pointer, "$ref", `${String(ref)} does not resolve`);
    this.refsInProgress.add(target);
    const compiled = this.compile(resolved, target);
    this.refsInProgress.delete(target);
    this.compiledRefs.set(target, compiled);
    return compiled;
  }

  private compileAllOf(schema: Record<string, unknown>, pointer: string): CompiledSchema {
    this.assertAlone(schema, pointer, "allOf");
    const parts = schema.allOf;
    if (!Array.isArray(parts) || parts.length !== 1) {
      const reason = "only an allOf of exactly one schema is supported; merge the schemas";
      throw new UnsupportedSchemaError(pointer, "allOf", reason);
    }
    return this.compile(parts[0], appendPointer(pointer, "allOf", 0));
  }

  private compileAlternatives(schema: Record<string, unknown>, pointer: string): CompiledSchema {
    const keyword = "anyOf" in schema ? "anyOf" : "oneOf";
    this.assertAlone(schema, pointer, keyword);
    const options = schema[keyword];
    if (!Array.isArray(options) || options.length === 0) {
      throw new UnsupportedSchemaError(pointer, keyword, "must be a non-empty array of schemas");
    }
    if (options.length > MAX_ALTERNATIVES) {
      throw new UnsupportedSchemaError(pointer, keyword, `lists ${options.length} alternatives; at most ${MAX_ALTERNATIVES} are supported`);
    }
    const compiled = options.map((option, index) => this.compile(option, appendPointer(pointer, keyword, index)));
    if (keyword === "oneOf") assertDisjoint(compiled, pointer);
    return this.union(compiled, nameHint(pointer, keyword), pointer, keyword);
  }

  private compileValues(schema: Record<string, unknown>, pointer: string): CompiledSchema {
    const keyword = "const" in schema ? "const" : "enum";
    const listed = schema.enum;
    if (listed !== undefined && (!Array.isArray(listed) || listed.length === 0)) {
      throw new UnsupportedSchemaError(pointer, "enum", "must be a non-empty array");
    }
    let values: unknown[] = "const" in schema ? [schema.const] : (listed as unknown[]);
    this.listedValues += values.length;
    if (this.listedValues > MAX_LISTED_VALUES) {
      throw new UnsupportedSchemaError(pointer, keyword, `the schema lists more than ${MAX_LISTED_VALUES} enum and const values in all`);
    }
    if (keyword === "const" && Array.isArray(listed)) {
      values = values.filter((value) => listed.some((member) => asciiJson(member) === asciiJson(value)));
    }
    if (schema.type !== undefined) {
      const types = [schema.type].flat();
      values = values.filter((value) => types.some((type) => valueHasType(value, type)));
    }
    if (values.length === 0) {
      throw new UnsupportedSchemaError(pointer, keyword, "no listed value satisfies the rest of the schema");
    }
    const literals = values.map((value) => literal(asciiJson(value)));
    return {
      ...alternation(this.rules, nameHint(pointer, keyword), literals),
      produces: values.map((value) => ({ type: jsonTypeOf(value), json: asciiJson(value) })),
    };
  }

  private compileType(schema: Record<string, unknown>, type: unknown, pointer: string): CompiledSchema {
    const typed = (jsonType: JsonType, fragment: Fragment): CompiledSchema => ({
      ...fragment,
      produces: [{ type: jsonType }],
    });
    switch (type) {
      case "string":
        return typed("string", this.compileString(schema, pointer));
      case "integer":
        return typed("integer", integerGrammar(this.rules, numericBounds(schema, pointer, true)));
      case "number":
        return typed("number", numberGrammar(this.rules, numericBounds(schema, pointer, false)));
      case "boolean":
        return typed("boolean", booleanGrammar(this.rules));
      case "null":
        return typed("null", NULL_GRAMMAR);
      case "object":
        return typed("object", this.compileObject(schema, pointer));
      case "array":
        return typed("array", this.compileArray(schema, pointer));
      default:
        throw new UnsupportedSchemaError(pointer, "type", `unknown type ${JSON.stringify(type)}`);
    }
  }

  private compileString(schema: Record<string, unknown>, pointer: string): Fragment {
    const formatted = typeof schema.format === "string" ? formatGrammar(this.rules, schema.format) : undefined;
    if (formatted !== undefined) return formatted;
    const { min, max } = lengthRange(schema, pointer, "minLength", "maxLength", DEFAULT_MAX_STRING_LENGTH);
    return stringGrammar(this.rules, min, max);
  }

  private compileObject(schema: Record<string, unknown>, pointer: string): Fragment {
    const properties = schema.properties;
    if (!isPlainObject(properties)) {
      throw new UnsupportedSchemaError(pointer, "properties", "an object schema must list its properties");
    }
    const names = Object.keys(properties);
    this.declaredProperties += names.length;
    if (this.declaredProperties > MAX_DECLARED_PROPERTIES) {
      throw new UnsupportedSchemaError(pointer, "properties", `the schema declares more than ${MAX_DECLARED_PROPERTIES} object properties in all`);
    }
    assertRequiredDeclared(schema, names, pointer);
    assertPropertyCount(schema, names.length, pointer);
    const ws = whitespace(this.rules);
    const members = names.flatMap((name, index) => [
      ...(index === 0 ? [] : [","]),
      ws,
      `${asciiJson(name)}:`,
      ws,
      this.compile(properties[name], appendPointer(pointer, "properties", name)),
    ]);
    const { body, maxChars } = concat(["{", ...members, ...(names.length === 0 ? [] : [ws]), "}"]);
    return { element: this.rules.define(nameHint(pointer, "object"), body), maxChars };
  }

  private compileArray(schema: Record<string, unknown>, pointer: string): Fragment {
    if (schema.items === undefined || Array.isArray(schema.items)) {
      throw new UnsupportedSchemaError(pointer, "items", "an array schema must give one schema for all its items");
    }
    const item = this.compile(schema.items, appendPointer(pointer, "items"));
    const { min, max } = lengthRange(schema, pointer, "minItems", "maxItems", DEFAULT_MAX_ITEMS);
    return delimitedList(this.rules, nameHint(pointer, "array"), { open: "[", close: "]" }, item, min, max);
  }

  private union(options: CompiledSchema[], hint: string, pointer: string, keyword: string): CompiledSchema {
    // A definition's values are counted once however often it is referenced, so a union of references is bounded here.
    const produced = options.reduce((count, option) => count + option.produces.length, 0);
    if (produced > MAX_LISTED_VALUES) {
      throw new UnsupportedSchemaError(pointer, keyword, `its alternatives can produce more than ${MAX_LISTED_VALUES} listed values together`);
    }
    return { ...alternation(this.rules, hint, options), produces: options.flatMap((option) => option.produces) };
  }
}

/** The JSON pointer a same-document reference ("#", "#/$defs/x") points at, or undefined for any other reference. */
function localRefPointer(ref: string): string | undefined {
  if (ref !== "#" && !ref.startsWith("#/")) return undefined;
  try {
    return decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
}

/**
 * oneOf fails when a value matches two alternatives, which the grammar cannot prevent unless they cannot overlap.
 * Checked in one pass over what the alternatives produce, indexed by type (integers and numbers together): schemas
 * come from callers, and comparing every pair took seconds on the event loop for a few thousand constants.
 */
function assertDisjoint(alternatives: CompiledSchema[], pointer: string): void {
  // Per type: the first alternative producing any value of it, the first producing any listed value, and each value's.
  const anyValue = new Map<JsonType, number>();
  const anyListed = new Map<JsonType, number>();
  const listed = new Map<string, number>();
  alternatives.forEach((alternative, index) => {
    for (const { type, json } of alternative.produces) {
      const family = overlapFamily(type);
      const earlier = anyValue.get(family) ?? (json === undefined ? anyListed.get(family) : listed.get(`${family} ${json}`));
      if (earlier !== undefined) {
        throw new UnsupportedSchemaError(pointer, "oneOf",
          `alternatives ${earlier} and ${index} can match the same value; use anyOf, or alternatives of different types or values`);
      }
    }
    // Recorded after the check: an alternative may produce overlapping values itself.
    for (const { type, json } of alternative.produces) {
      const family = overlapFamily(type);
      const first = json === undefined ? anyValue : anyListed;
      if (!first.has(family)) first.set(family, index);
      if (json !== undefined && !listed.has(`${family} ${json}`)) listed.set(`${family} ${json}`, index);
    }
  });
}

/** Types that can describe the same value share a family: integers are numbers. */
const overlapFamily = (type: JsonType): JsonType => (type === "integer" ? "number" : type);

function assertRequiredDeclared(schema: Record<string, unknown>, names: string[], pointer: string): void {
  const required = schema.required;
  if (required === undefined) return;
  if (!Array.isArray(required)) throw new UnsupportedSchemaError(pointer, "required", "must be an array of names");
  const undeclared: unknown = required.find((name: unknown) => typeof name !== "string" || !names.includes(name));
  if (undeclared !== undefined) {
    throw new UnsupportedSchemaError(pointer, "required", `${JSON.stringify(undeclared)} is not a declared property`);
  }
}

/** Every declared property is emitted, so the count is fixed. */
function assertPropertyCount(schema: Record<string, unknown>, count: number, pointer: string): void {
  const min = readCount(schema, "minProperties", pointer);
  const max = readCount(schema, "maxProperties", pointer);
  const keyword =
    min !== undefined && min > count ? "minProperties" : max !== undefined && max < count ? "maxProperties" : undefined;
  if (keyword !== undefined) {
    const reason = `the grammar always emits exactly the ${count} declared properties`;
    throw new UnsupportedSchemaError(pointer, keyword, reason);
  }
}
