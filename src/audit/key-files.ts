import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config/schema.js";

/** Where the audit keys live: never in the database, by default beside the data directory's other state. */
export function auditKeyPaths(config: Config) {
  const dir = resolve(config.audit.keyDir ?? join(config.dataDir, "keys"));
  return {
    dir,
    signingKey: join(dir, "audit-signing.pem"),
    publicJwk: join(dir, "audit-signing.pub.jwk"),
    contentHashKey: join(dir, "content-hash.key"),
    /** Encrypts what Temporal stores of tasks (src/orchestration/payload-codec.ts); every worker needs a copy. */
    payloadKey: join(dir, "temporal-payload.key"),
  };
}

/**
 * A 32-byte secret from its file, created (random, mode 0600, its folder 0700) on first use; refused when others
 * may read it, or when it is short.
 */
export function loadSecretKey(path: string, what: string): Buffer {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
    } catch (error) {
      // The gateway and a worker sharing the folder, first started together: the other one made it.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const { mode } = statSync(path);
  if ((mode & 0o077) !== 0) throw new Error(`${what} ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  const key = readFileSync(path);
  if (key.length < 32) throw new Error(`${what} ${path} holds ${key.length} bytes, expected 32`);
  return key;
}
