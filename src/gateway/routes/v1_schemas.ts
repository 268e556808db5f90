import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import { IDENTIFIER_PII_MESSAGE, identifierReadsAsPii } from "../../redaction/identifier.js";
import { SchemaVersionConflictError, type SchemaRecord } from "../../store/interface.js";
import { schemaDigest } from "../../store/schema-digest.js";
import { SCHEMA_NAME_PATTERN } from "../../store/schema-name.js";
import { checkSchemaDocument } from "../../structured/index.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { ApiError, invalidRequest, notFound } from "../errors.js";
import { parseParams, readBody } from "../validation.js";


export const RegisterSchemaRequest = z.strictObject({
  // Kept as it is in execution rows and audit events (a task's class names it), so it must not read as PII.
  name: z.string().regex(SCHEMA_NAME_PATTERN, "letters, digits, '.', '_' and '-', starting with a letter or digit (max 128)")
    .refine((name) => !identifierReadsAsPii(name), IDENTIFIER_PII_MESSAGE),
  version: z.number().int().min(1).max(1_000_000).optional(),
  description: z.string().max(2000).optional(),
  schema: z.record(z.string(), z.unknown()),
});

export const SchemaPath = z.strictObject({
  name: z.string().regex(SCHEMA_NAME_PATTERN, "not a valid schema name"),
  version: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export function schemaBody(record: SchemaRecord) {
  return {
    object: "schema",
    name: record.name,
    version: record.version,
    description: record.description,
    schema: record.schema,
    sha256: record.digest,
    created_at: record.createdAt.toISOString(),
  };
}

/** Refuses a JSON Schema the validator cannot compile or the grammar compiler cannot express, before storing it. */
export function assertUsableSchema(schema: Record<string, unknown>, param: string): void {
  const violations = checkSchemaDocument(schema);
  if (violations.length > 0) {
    const first = violations[0]!;
    throw invalidRequest("schema_invalid", `${param}${first.path}: ${first.message}`, param, { violations });
  }
}
/**
 * The record of a registration: who registered which schema name and version, and the SHA-256 of the document —
 * never the document, whose description and enum values are the caller's text. `created` is false when an
 * identical document was already registered (a retry); a version conflict is recorded as refused.
 */
function schemaEvent(c: Context, schema: { name: string; version: number | null; sha256: string }, outcome: { created: boolean } | { refused: string }): AuditEvent {
  return systemEvent("schema.registered", {
    actor: actorOf(c),
    request: { id: c.get("requestId"), endpoint: "POST /v1/schemas" },
    outcome: "refused" in outcome ? { status: "refused", code: outcome.refused } : { status: "succeeded" },
    detail: { ...schema, ...("created" in outcome ? { created: outcome.created } : {}) },
  });
}

/** The schema registry: POST /v1/schemas, GET /v1/schemas, GET /v1/schemas/:name[/versions/:version]. */
export function registerSchemas(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/schemas", requireScope("tasks"), async (c) => {
    const body = await readBody(c, RegisterSchemaRequest);
    assertUsableSchema(body.schema, "schema");
    try {
      // Stored and recorded in one transaction: no registration goes unrecorded, no record names one that failed.
      const record = await deps.schemas.register(
        c.get("principal").tenant,
        { name: body.name, version: body.version, description: body.description ?? null, schema: body.schema },
        ({ record, created }) => schemaEvent(c, { name: record.name, version: record.version, sha256: record.digest }, { created }),
      );
      return c.json(schemaBody(record), 201);
    } catch (error) {
      if (error instanceof SchemaVersionConflictError) {
        await deps.audit.record(schemaEvent(c, { name: body.name, version: body.version ?? null, sha256: schemaDigest(body.schema) }, { refused: "schema_version_conflict" }));
        throw new ApiError(409, "invalid_request_error", "schema_version_conflict", error.message, "version");
      }
      throw error;
    }
  });

  app.get("/v1/schemas", requireScope("tasks"), async (c) => c.json({ object: "list", data: (await deps.schemas.list(c.get("principal").tenant)).map(schemaBody) }));

  const getOne = async (tenant: string, name: string, version: string | undefined) => {
    const path = parseParams(SchemaPath, { name, ...(version === undefined ? {} : { version }) });
    const record = await deps.schemas.get(tenant, path.name, path.version);
    if (!record) throw notFound("schema_not_found", `schema ${path.name}${path.version ? ` version ${path.version}` : ""} does not exist`, "name");
    return schemaBody(record);
  };
  app.get("/v1/schemas/:name", requireScope("tasks"), async (c) => c.json(await getOne(c.get("principal").tenant, c.req.param("name"), undefined)));
  app.get("/v1/schemas/:name/versions/:version", requireScope("tasks"), async (c) =>
    c.json(await getOne(c.get("principal").tenant, c.req.param("name"), c.req.param("version"))));
}
