import { z } from "zod";
import { AUDIT_EVENT_KINDS } from "../../../audit/core/entry.js";
import { MODEL_STATES } from "../../../inference/interface.js";
import { answerSchema } from "../registry.js";
import { Count, Sha256Hex, Timestamp } from "./common.js";

/** Answers of the schema registry, the audit log and the health probes. */

/** schemaBody in routes/v1_schemas.ts. */
export const SchemaRecord = answerSchema("SchemaRecord", z.object({
  object: z.literal("schema"),
  name: z.string(),
  version: z.int().min(1),
  description: z.string().nullable(),
  schema: z.record(z.string(), z.unknown()).describe("the JSON Schema document as registered"),
  sha256: Sha256Hex,
  created_at: Timestamp,
}));
export const SchemaList = answerSchema("SchemaList", z.object({ object: z.literal("list"), data: z.array(SchemaRecord).describe("each name's latest version") }));

const Base64 = z.base64();

/** ReceiptBody in audit/verify/receipt.ts (audit/FORMAT.md §9). */
export const AuditReceipt = answerSchema("AuditReceipt", z.object({
  object: z.literal("audit.receipt"),
  event_id: z.uuid(),
  index: Count.describe("the leaf's index in the log"),
  leaf: z.string().describe("the leaf's canonical JSON: its UTF-8 encoding is exactly what was hashed"),
  leaf_hash: Base64.describe("SHA-256(0x00 ‖ leaf)"),
  chain_hash: Sha256Hex.describe("SHA-256(leaf): what the next leaf's prev names"),
  tree_size: z.int().min(1),
  root: Base64,
  checkpoint: z.string().describe("the signed checkpoint of that tree (FORMAT.md §4)"),
  inclusion_proof: z.array(Base64).describe("RFC 9162 PATH(index, D[tree_size]), bottom-up"),
}));

/** AuditEvent in audit/core/entry.ts, as the log holds it: the data of each GET /v1/events event. */
export const AuditEventData = answerSchema("AuditEvent", z.looseObject({
  v: z.literal(1),
  id: z.string().describe("the event's own id (an execution's events share its id)"),
  time: Timestamp,
  kind: z.enum(AUDIT_EVENT_KINDS),
  actor: z.object({ subject: z.string(), tenant: z.string(), tokenIdHash: z.string(), sourceAddress: z.string() }).partial().optional(),
}).describe("digests and names, never content: the other members are those of audit/FORMAT.md for its kind"));

/** consistencyBody in audit/verify/consistency-proof.ts. */
export const AuditConsistency = answerSchema("AuditConsistency", z.object({
  object: z.literal("audit.consistency"),
  old_size: Count,
  new_size: Count,
  old_checkpoint: z.string(),
  new_checkpoint: z.string(),
  proof: z.array(Base64).describe("RFC 9162 consistency proof, base64 hashes"),
}));

/** GET /openapi.json: only its outline; the rest is OpenAPI 3.1's. */
export const OpenApiOutline = answerSchema("OpenApiDocument", z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z.looseObject({}),
}));

export const Liveness = answerSchema("Liveness", z.object({ status: z.literal("ok") }));

export const Readiness = answerSchema("Readiness", z.object({
  status: z.enum(["ready", "not_ready"]),
  database: z.enum(["ok", "unreachable"]),
  models: z.array(z.object({ id: z.string(), state: z.enum(MODEL_STATES), reason_code: z.string().optional() })),
}));
