import type { Hono } from "hono";
import { z } from "zod";
import type { Scope } from "../../identity/principal.js";
import { AUTHENTICATES, REQUIRED_SCOPES } from "../middleware/auth/index.js";
import { ErrorAnswer } from "./answers/common.js";
import { HEADERS, TAGS, type Answer, type Operation } from "./operations.js";
import { answerSchemas, requestSchemas } from "./registry.js";

type JsonSchema = Record<string, unknown>;
type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, JsonSchema>> };

/** A route as the app serves it: who may call it is read off the handlers it runs. */
export interface Endpoint {
  method: string;
  /** Hono's pattern: `/v1/tasks/:id`. */
  path: string;
  authenticated: boolean;
  /** Any one of these suffices (admin holds its tenant's, never the site's); empty: any authenticated caller. */
  scopes: readonly Scope[];
}

/** Whether middleware registered on `pattern` (`*`, `/v1/*`, or a path) runs for `path`. */
function covers(pattern: string, path: string): boolean {
  if (pattern === "*" || pattern === "/*") return true;
  if (pattern.endsWith("/*")) {
    const prefix = pattern.slice(0, -2);
    return path === prefix || path.startsWith(`${prefix}/`);
  }
  return pattern === path;
}

const marks = (handler: unknown) => handler as { [AUTHENTICATES]?: true; [REQUIRED_SCOPES]?: readonly Scope[] };

/**
 * Every route Hono has registered, in registration order. Middleware (`app.use`, method ALL) is not a route, but
 * what was registered before a route on a pattern covering it runs for it: that is where authentication comes from.
 */
export function endpointsOf(app: Hono): Endpoint[] {
  const middleware: Array<{ path: string; handler: unknown }> = [];
  const endpoints = new Map<string, Endpoint>();
  for (const route of app.routes) {
    if (route.method === "ALL") {
      middleware.push(route);
      continue;
    }
    const key = `${route.method} ${route.path}`;
    let endpoint = endpoints.get(key);
    if (endpoint === undefined) {
      const before = middleware.filter((m) => covers(m.path, route.path));
      endpoint = { method: route.method, path: route.path, authenticated: before.some((m) => marks(m.handler)[AUTHENTICATES] === true), scopes: [] };
      endpoints.set(key, endpoint);
    }
    const handler = marks(route.handler);
    if (handler[AUTHENTICATES] === true) endpoint.authenticated = true;
    endpoint.scopes = [...endpoint.scopes, ...(handler[REQUIRED_SCOPES] ?? [])];
  }
  return [...endpoints.values()];
}

const schemaRef = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const SHARED_REF = /^#\/components\/schemas\/__shared#\/\$defs\/(.+)$/;

/** Rewrites every `$ref` in `value` (a converted schema) with `rename`. */
function rewriteRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, rename));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === "$ref" && typeof item === "string" ? rename(item) : rewriteRefs(item, rename)]));
}

const JSON_TYPES = ["array", "boolean", "null", "number", "object", "string"].join();

/** z.json(): any JSON value, the one recursive schema the routes use; it deserves a name a reader knows. */
function isJsonValue(schema: JsonSchema | undefined): boolean {
  const variants = schema?.["anyOf"];
  return Array.isArray(variants) && variants.map((v: JsonSchema) => v["type"]).sort().join() === JSON_TYPES;
}

/**
 * `components.schemas`: both registries converted by zod. What zod cannot inline (a recursive schema) it puts under
 * `__shared`, which is no component: those definitions become components of their own, and `$schema`/`$id` go,
 * since in an OpenAPI document a schema's base is the document itself.
 */
function componentSchemas(): Record<string, JsonSchema> {
  const components: Record<string, JsonSchema> = {};
  for (const [registry, io, sharedPrefix] of [[requestSchemas, "input", "RequestPart"], [answerSchemas, "output", "AnswerPart"]] as const) {
    const { schemas } = z.toJSONSchema(registry, { target: "draft-2020-12", io, uri: (id) => `#/components/schemas/${id}` });
    const shared = (schemas["__shared"]?.$defs ?? {}) as Record<string, JsonSchema>;
    const nameOf = (name: string) => (isJsonValue(shared[name]) ? "JsonValue" : `${sharedPrefix}_${name}`);
    const rename = (ref: string) => ref.replace(SHARED_REF, (_, name: string) => `#/components/schemas/${nameOf(name)}`);
    for (const [id, converted] of Object.entries(schemas)) {
      const { $schema: _schema, $id: _id, $defs, ...schema } = rewriteRefs(converted, rename) as JsonSchema;
      const entries = id === "__shared" ? Object.entries(($defs ?? {}) as Record<string, JsonSchema>).map(([name, def]) => [nameOf(name), def] as const) : [[id, schema] as const];
      for (const [name, value] of entries) {
        // Both registries may need JsonValue; any other clash is two schemas under one name.
        if (name in components && JSON.stringify(components[name]) !== JSON.stringify(value)) throw new Error(`two OpenAPI components are named ${name}`);
        components[name] = value;
      }
    }
  }
  return components;
}

/** A zod object's properties as OpenAPI parameters, converted as the route reads them. */
function parametersOf(location: "path" | "query", schema: z.ZodObject | undefined, names: readonly string[] | null): JsonSchema[] {
  const converted = schema === undefined ? {} : (z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as JsonSchema);
  const properties = (converted["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((converted["required"] ?? []) as string[]);
  return (names ?? Object.keys(properties)).map((name) => ({
    name,
    in: location,
    required: location === "path" || required.has(name),
    schema: properties[name] ?? { type: "string" },
  }));
}

function idOf(registry: typeof requestSchemas, schema: z.ZodType, what: string): string {
  const id = registry.get(schema)?.id;
  if (id === undefined) throw new Error(`${what} is not a named schema of the OpenAPI document (registry.ts)`);
  return id;
}

function responseOf(answer: Answer, key: string): JsonSchema {
  const content: Record<string, JsonSchema> = {};
  if (answer.json) content["application/json"] = { schema: schemaRef(idOf(answerSchemas, answer.json, `the answer of ${key}`)) };
  if (answer.events) {
    // OpenAPI 3.1 has no words for an event stream's items: the schema of each `data:` goes in an extension.
    content["text/event-stream"] = { schema: { type: "string" }, "x-atomic-event-data": schemaRef(idOf(answerSchemas, answer.events, `the events of ${key}`)) };
  }
  if (answer.media) content[answer.media] = {};
  return {
    description: answer.description,
    ...(answer.headers ? { headers: Object.fromEntries(answer.headers.map((name) => [name, { $ref: `#/components/headers/${name}` }])) } : {}),
    content,
  };
}

/** Errors by status: each a named response with the Error body. */
const ERRORS: Record<number, { name: string; description: string; headers?: readonly (keyof typeof HEADERS)[] }> = {
  400: { name: "BadRequest", description: "The request is invalid: its body, parameters, or what they ask for (`invalid_json`, `missing_parameter`, `unknown_parameter`, `invalid_parameter`, …)." },
  401: { name: "Unauthorized", description: "No credentials, or credentials not accepted (`authentication_required`, `invalid_credentials`).", headers: ["WWW-Authenticate"] },
  403: { name: "Forbidden", description: "Known, but not allowed: `insufficient_scope`, `policy_denied`, …" },
  404: { name: "NotFound", description: "Nothing of that id here, or not the caller's tenant's." },
  409: { name: "Conflict", description: "The resource is not in a state that allows it." },
  413: { name: "TooLarge", description: "The body exceeds the gateway's limit (`request_too_large`)." },
  422: { name: "Unprocessable", description: "Understood, but it could not be done (`structured_output_invalid`, `policy_set_invalid`, …)." },
  429: { name: "RateLimited", description: "Over the caller's request rate or token budget.", headers: ["Retry-After"] },
  500: { name: "ServerError", description: "Unexpected: see the gateway log for the request's `x-request-id`." },
  503: { name: "Unavailable", description: "A model is loading or overloaded, or orchestration is off.", headers: ["Retry-After"] },
};

/** The errors a route answers: those of its kind (credentials, validation, limits), and those of its own. */
function errorStatuses(endpoint: Endpoint, operation: Operation): number[] {
  const statuses = new Set<number>(operation.errors);
  if (operation.body !== undefined || operation.query !== undefined || operation.path !== undefined) statuses.add(400);
  if (operation.body !== undefined) statuses.add(413);
  if (endpoint.authenticated) {
    statuses.add(401).add(403);
    // Quotas apply under /v1 (app.ts).
    if (endpoint.path.startsWith("/v1/")) statuses.add(429);
  }
  statuses.add(500);
  return [...statuses].sort((a, b) => a - b);
}

function requestBodyOf(operation: Operation, key: string): JsonSchema | undefined {
  const body = operation.body;
  if (body === undefined) return undefined;
  if (body instanceof z.ZodType) return { required: true, content: { "application/json": { schema: schemaRef(idOf(requestSchemas, body, `the body of ${key}`)) } } };
  return { required: body.required, description: body.description, content: Object.fromEntries(body.media.map((media) => [media, { schema: { type: "string" } }])) };
}

function operationObject(endpoint: Endpoint, operation: Operation): JsonSchema {
  const key = `${endpoint.method} ${endpoint.path}`;
  const pathNames = [...endpoint.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
  const parameters = [...parametersOf("path", operation.path, pathNames), ...parametersOf("query", operation.query, null)];
  const requestBody = requestBodyOf(operation, key);
  const responses: Record<string, JsonSchema> = Object.fromEntries(Object.entries(operation.answers).map(([status, answer]) => [status, responseOf(answer, key)]));
  for (const status of errorStatuses(endpoint, operation)) responses[String(status)] ??= { $ref: `#/components/responses/${ERRORS[status]!.name}` };
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    // Any one requirement suffices: one per scope that the route accepts (`admin` holds its tenant's, not the site's).
    security: !endpoint.authenticated ? [] : endpoint.scopes.length === 0 ? [{ bearer: [] }] : endpoint.scopes.map((scope) => ({ bearer: [scope] })),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

const DESCRIPTION = [
  "Atomic, an offline AI gateway: OpenAI-compatible inference on local models, a task API with schema-validated results, policies, and a tamper-evident audit log.",
  "Callers authenticate with `Authorization: Bearer <API key or JWT>`; each route names the scopes it accepts, any one of which suffices (`admin` holds every scope of its tenant; the site's — `audit:read`, `audit:export`, `metrics:read`, `operator` — are held only where granted). Every error is JSON in OpenAI's shape with a stable `code`; every answer carries `x-request-id`.",
  "This document is generated by the gateway from the zod schemas its routes validate with and from the handlers they run.",
].join("\n\n");

/** The OpenAPI 3.1 document of the routes `endpoints` that `operations` describes; others are left out. */
export function buildDocument(endpoints: readonly Endpoint[], operations: Readonly<Record<string, Operation>>, version: string): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const endpoint of endpoints) {
    const operation = operations[`${endpoint.method} ${endpoint.path}`];
    if (operation === undefined) continue;
    const path = endpoint.path.replace(/:(\w+)/g, "{$1}");
    (paths[path] ??= {})[endpoint.method.toLowerCase()] = operationObject(endpoint, operation);
  }
  const errorBody = { "application/json": { schema: schemaRef(idOf(answerSchemas, ErrorAnswer, "the error body")) } };
  return {
    openapi: "3.1.0",
    info: { title: "Atomic", version, description: DESCRIPTION },
    tags: TAGS.map((tag) => ({ ...tag })),
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(Object.values(ERRORS).map(({ name, description, headers }) => [name, {
        description,
        ...(headers ? { headers: Object.fromEntries(headers.map((header) => [header, { $ref: `#/components/headers/${header}` }])) } : {}),
        content: errorBody,
      }])),
      headers: Object.fromEntries(Object.entries(HEADERS).map(([name, description]) => [name, { description, schema: { type: "string" } }])),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key (`atomic apikeys create`) or a JWT from the configured provider." } },
    },
  };
}
