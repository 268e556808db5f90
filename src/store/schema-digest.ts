import { createHash } from "node:crypto";
import { canonicalize } from "../util/canonical-json.js";

/** SHA-256 (hex) of the schema's canonical JSON: key order and whitespace do not change it, content does. */
export function schemaDigest(schema: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalize(schema), "utf8").digest("hex");
}
