import { z } from "zod";

/**
 * The named schemas of the OpenAPI document, as `components.schemas`. Request bodies are the very zod objects the
 * routes validate with, converted as they are read (`io: "input"`: defaults make a field optional); answers are
 * converted as they are written (`io: "output"`). Two registries, because zod converts one registry in one mode.
 */
export const requestSchemas = z.registry<{ id: string }>();
export const answerSchemas = z.registry<{ id: string }>();

/** Names a request body schema for the document; returns it unchanged. */
export function requestSchema<S extends z.ZodType>(id: string, schema: S): S {
  requestSchemas.add(schema, { id });
  return schema;
}

/** Names an answer's schema for the document; returns it unchanged. */
export function answerSchema<S extends z.ZodType>(id: string, schema: S): S {
  answerSchemas.add(schema, { id });
  return schema;
}
