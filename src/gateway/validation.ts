import type { Context } from "hono";
import type { z } from "zod";
import { jsonDepthExceeds } from "../util/json-depth.js";
import { ApiError, invalidRequest } from "./errors.js";

/** OpenAI writes parameter paths as `messages[0].content`. */
function paramPath(path: PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/** Whether the value at `path` is absent from the input, which makes the issue a missing parameter. */
function isAbsent(input: unknown, path: PropertyKey[]): boolean {
  let node: unknown = input;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return true;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node === undefined;
}

/**
 * A union's issues where the value took one of its branches. zod reports every branch, and a value refused only
 * by the branches whose type it does not have (an array where a string or an array is allowed) is best told what
 * is wrong inside the branch it entered: those issues, under the union's path, stand for the union's.
 */
function narrowed(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union") return [issue];
  const entered = issue.errors.filter((branch) => !(branch.length === 1 && branch[0]!.code === "invalid_type" && branch[0]!.path.length === 0));
  if (entered.length !== 1) return [issue];
  return entered[0]!.flatMap((inner) => narrowed({ ...inner, path: [...issue.path, ...inner.path] }));
}

export function zodToApiError(error: z.ZodError, input: unknown): ApiError {
  const issues = error.issues.flatMap(narrowed).map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const path = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const code = keys.length > 0 ? "unknown_parameter" : path.length > 0 && isAbsent(input, path) ? "missing_parameter" : "invalid_parameter";
    const message = keys.length > 0 ? `unknown parameter: ${keys.join(", ")}` : issue.message;
    return { param: paramPath(path), code, message };
  });
  const first = issues[0]!;
  return invalidRequest(first.code, first.param ? `${first.param}: ${first.message}` : first.message, first.param, { issues });
}

/**
 * How deeply a request body may nest objects and arrays. Everything after parsing walks bodies recursively (zod,
 * the redactor, JSON.stringify, ajv), and a few thousand levels overflow the stack; the deepest legitimate body is
 * a response schema of MAX_SCHEMA_DEPTH (64) levels inside its request's three, so twice that leaves room.
 */
export const MAX_JSON_DEPTH = 128;

/** Parses the JSON body and validates it; any failure is a 400 with a stable code, before anything runs. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await c.req.text();
  } catch (error) {
    // The body limit's own refusal (413) stands; anything else is the client's body ending early, not our failure.
    if (error instanceof ApiError) throw error;
    throw invalidRequest("request_body_incomplete", "the request body ended before its Content-Length, or the connection closed while it was being sent");
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw invalidRequest("json_too_deep", `the request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidRequest("invalid_json", "the request body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw zodToApiError(parsed.error, raw);
  return parsed.data;
}

export function parseParams<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw zodToApiError(parsed.error, value);
  return parsed.data;
}
