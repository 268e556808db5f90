import { z } from "zod";
import { ERROR_TYPES } from "../../errors.js";
import { answerSchema } from "../registry.js";

/** Shapes several answers share. Each names what one route writes: a change to an answer is a change here. */

export const Count = z.int().min(0);
export const Timestamp = z.iso.datetime({ offset: true });
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const Usage = answerSchema("Usage", z.object({ prompt_tokens: Count, completion_tokens: Count, total_tokens: Count }));

/** ErrorBody in errors.ts: OpenAI's shape, which existing clients already parse. */
export const ErrorAnswer = answerSchema("Error", z.object({
  error: z.object({
    type: z.enum(ERROR_TYPES),
    code: z.string().describe("stable and machine-readable: what a client branches on"),
    message: z.string().describe("safe to show; never a stack trace"),
    param: z.string().nullable().describe("the parameter at fault, as OpenAI writes it (`messages[0].content`)"),
    details: z.unknown().optional().describe("more on some errors: every validation issue, a schema's violations, a policy set's problems"),
  }),
}));

export const SchemaRef = z.object({ name: z.string(), version: z.int().min(1) });
