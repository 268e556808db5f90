import { z } from "zod";
import type { TaskType } from "../bidding/features.js";
import { IDENTIFIER_PII_MESSAGE, identifierReadsAsPii } from "../redaction/identifier.js";
import type { ExecutionEndpoint, SchemaRef } from "../store/interface.js";

/**
 * A task class names "the same kind of work" for adaptation: what is learned (strategies, sampling parameters,
 * adapters) and which rated executions may serve as exemplars are keyed by it, always within one tenant.
 *
 * In order of precedence:
 *   - `task:<label>`: the caller declared it (request field `atomic_task`): the most reliable signal, and the only one
 *     that groups the same work across endpoints;
 *   - `schema:<name>@<version>`: a registered schema names the work (tasks with `schema.name`);
 *   - `<endpoint>:<taskType>`: otherwise the bidding features' task type (classification, extraction, …) per endpoint,
 *     a coarse class that still separates free chat from structured extraction.
 */

/** A declared task label: an identifier, not prose (it is kept when content is erased, like a schema name). */
export const TASK_LABEL_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

/** `atomic_task` as every route and the orchestration layer take it: a label that does not read as PII. */
export const TaskLabel = z.string()
  .regex(TASK_LABEL_PATTERN, "a task label: letters, digits, '.', '_' and '-', starting with a letter or digit (max 64)")
  .refine((label) => !identifierReadsAsPii(label), IDENTIFIER_PII_MESSAGE);

export interface TaskClassInput {
  endpoint: Exclude<ExecutionEndpoint, "embeddings">;
  taskType: TaskType;
  declared?: string;
  schema?: SchemaRef | null;
}

export function taskClassOf(input: TaskClassInput): string {
  if (input.declared !== undefined) return `task:${input.declared.toLowerCase()}`;
  if (input.schema) return `schema:${input.schema.name}@${input.schema.version}`;
  return `${input.endpoint}:${input.taskType}`;
}
