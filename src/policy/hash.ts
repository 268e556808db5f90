import { createHash } from "node:crypto";
import { canonicalize } from "../util/canonical-json.js";

export interface PolicyFile {
  /** Relative to the policy folder, with "/" separators. */
  name: string;
  text: string;
}

/**
 * SHA-256 (hex) naming a policy set by its content alone: each file by its name and canonical content (line
 * endings made LF; JSON re-encoded canonically, so key order and whitespace do not count), in name order. A set
 * copied to another machine, checked out on Windows or reformatted JSON hashes the same; any change of meaning does not.
 */
export function policySetHash(files: readonly PolicyFile[]): string {
  const digests: Record<string, string> = {};
  for (const file of files) digests[file.name] = sha256(canonicalText(file));
  return sha256(canonicalize({ format: "atomic-policy-set/1", files: digests }));
}

function canonicalText(file: PolicyFile): string {
  if (file.name.endsWith(".json")) return canonicalize(JSON.parse(file.text));
  return file.text.replace(/\r\n?/g, "\n");
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
