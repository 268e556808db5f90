import { join, resolve } from "node:path";
import type { Config } from "../config/schema.js";

/** Where the audit keys live: never in the database, by default beside the data directory's other state. */
export function auditKeyPaths(config: Config) {
  const dir = resolve(config.audit.keyDir ?? join(config.dataDir, "keys"));
  return {
    dir,
    signingKey: join(dir, "audit-signing.pem"),
    publicJwk: join(dir, "audit-signing.pub.jwk"),
    contentHashKey: join(dir, "content-hash.key"),
  };
}
