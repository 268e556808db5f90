/**
 * TypeScript types from the gateway's OpenAPI 3.1 document: one `export type` per component schema that the SDK's
 * operations name (their request bodies, their answers, the data of their event streams, their errors), and those
 * these name in turn. The document is generated from the zod schemas the routes validate with, so these types are
 * those schemas as a client sees them. Used by test/sdk/typescript.test.ts, which writes src/api-types.ts.
 *
 * Covers the JSON Schema that zod writes: $ref, anyOf/oneOf/allOf, const, enum, type (or a list of types), objects
 * with properties and additionalProperties, arrays. Anything else is `unknown`, never a guess.
 */

type Schema = { [key: string]: unknown };
export interface OpenApiDocument {
  paths: Record<string, Record<string, Schema>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, Schema> };
}

const SCHEMA_REF = "#/components/schemas/";
const RESPONSE_REF = "#/components/responses/";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

const isSchema = (value: unknown): value is Schema => typeof value === "object" && value !== null && !Array.isArray(value);

/** Every `$ref` anywhere in `value`. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (isSchema(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") found.push(item);
      else refsIn(item, found);
    }
  }
  return found;
}

/** The operations of `operationIds`, as the document holds them; throws naming one it does not hold. */
export function operationsOf(document: OpenApiDocument, operationIds: readonly string[]): Schema[] {
  const byId = new Map<string, Schema>();
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods)) if (typeof operation["operationId"] === "string") byId.set(operation["operationId"], operation);
  }
  return operationIds.map((id) => {
    const operation = byId.get(id);
    if (operation === undefined) throw new Error(`the document has no operation ${id}`);
    return operation;
  });
}

/** The component schemas the operations name, directly or through shared responses and other schemas, sorted. */
export function schemaNamesOf(document: OpenApiDocument, operationIds: readonly string[]): string[] {
  const names = new Set<string>();
  const pending = operationsOf(document, operationIds).flatMap((operation) => refsIn(operation));
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    if (ref.startsWith(RESPONSE_REF)) {
      pending.push(...refsIn(document.components.responses?.[ref.slice(RESPONSE_REF.length)]));
    } else if (ref.startsWith(SCHEMA_REF)) {
      const name = ref.slice(SCHEMA_REF.length);
      if (names.has(name)) continue;
      const schema = document.components.schemas[name];
      if (schema === undefined) throw new Error(`${ref} is not in the document`);
      names.add(name);
      pending.push(...refsIn(schema));
    }
  }
  return [...names].sort();
}

function comment(description: unknown, indent: string): string {
  if (typeof description !== "string" || description.length === 0) return "";
  return `${indent}/** ${description.replace(/\*\//g, "*\\/").replace(/\n/g, ` `)} */\n`;
}

function typeName(ref: string): string {
  if (!ref.startsWith(SCHEMA_REF)) throw new Error(`cannot name ${ref}`);
  const name = ref.slice(SCHEMA_REF.length);
  if (!IDENTIFIER.test(name)) throw new Error(`component ${JSON.stringify(name)} is not a TypeScript name`);
  return name;
}

function union(types: string[], separator = " | "): string {
  return [...new Set(types)].join(separator);
}

function objectType(schema: Schema, depth: number): string {
  const properties = isSchema(schema["properties"]) ? schema["properties"] : {};
  const required = new Set(Array.isArray(schema["required"]) ? (schema["required"] as string[]) : []);
  const extra = schema["additionalProperties"];
  const names = Object.keys(properties);
  if (names.length === 0) return extra === false || extra === undefined ? "{}" : `{ [key: string]: ${isSchema(extra) ? typeOf(extra, depth) : "unknown"} }`;
  const indent = "  ".repeat(depth + 1);
  const lines = names.map((name) => {
    const property = properties[name] as Schema;
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    return `${comment(property["description"], indent)}${indent}${key}${required.has(name) ? "" : "?"}: ${typeOf(property, depth + 1)};\n`;
  });
  // Named members beside an index signature must fit it: only `unknown` fits them all.
  if (isSchema(extra) || extra === true) lines.push(`${indent}[key: string]: unknown;\n`);
  return `{\n${lines.join("")}${"  ".repeat(depth)}}`;
}

function typeOf(schema: Schema, depth: number): string {
  if (typeof schema["$ref"] === "string") return typeName(schema["$ref"]);
  for (const [keyword, separator] of [["anyOf", " | "], ["oneOf", " | "], ["allOf", " & "]] as const) {
    const members = schema[keyword];
    if (Array.isArray(members)) return union(members.map((member: Schema) => typeOf(member, depth)), separator);
  }
  if ("const" in schema) return JSON.stringify(schema["const"]);
  if (Array.isArray(schema["enum"])) return union(schema["enum"].map((value) => JSON.stringify(value)));
  const type = schema["type"];
  if (Array.isArray(type)) return union(type.map((one) => typeOf({ ...schema, type: one }, depth)));
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `Array<${isSchema(schema["items"]) ? typeOf(schema["items"], depth) : "unknown"}>`;
    case "object":
      return objectType(schema, depth);
    default:
      return isSchema(schema["properties"]) ? objectType(schema, depth) : "unknown";
  }
}

/** The module text: a header, then the types of `schemaNamesOf(document, operationIds)`. */
export function typesFromOpenApi(document: OpenApiDocument, operationIds: readonly string[]): string {
  const header = [
    "// Generated from the gateway's GET /openapi.json by sdk/typescript/codegen/openapi-types.ts: do not edit.",
    "// test/sdk/typescript.test.ts fails when the document has changed; `npx vitest run test/sdk/typescript.test.ts -u`",
    "// writes this file again.",
    "",
  ];
  const types = schemaNamesOf(document, operationIds).map((name) => {
    const schema = document.components.schemas[name]!;
    return `${comment(schema["description"], "")}export type ${typeName(SCHEMA_REF + name)} = ${typeOf(schema, 0)};\n`;
  });
  return `${header.join("\n")}\n${types.join("\n")}`;
}
