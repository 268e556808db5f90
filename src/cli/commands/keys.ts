import { existsSync } from "node:fs";
import { auditKeyPaths } from "../../audit/key-files.js";
import { generateSigningKey } from "../../audit/core/keys.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";

/** `atomic keys generate`: creates the audit signing key (0600) and its public JWK for auditors. */
export async function keysCommand(context: CommandContext, args: string[]): Promise<number> {
  if (args[0] !== "generate" || args.length > 1) throw new UsageError("usage: atomic keys generate");
  const paths = auditKeyPaths(context.config);
  if (existsSync(paths.signingKey)) {
    context.err(`refused: ${paths.signingKey} already exists; a log keeps its key (rotation is not built yet)`);
    return 1;
  }
  generateSigningKey(paths.dir, context.config.audit.origin);
  context.out(`signing key ${paths.signingKey} (mode 0600)`);
  context.out(`public key for auditors: ${paths.publicJwk}`);
  return 0;
}
