import { existsSync } from "node:fs";
import { join } from "node:path";
import { auditKeyPaths } from "../../audit/key-files.js";
import { describeKey, keyIdentity } from "../../audit/core/key-identity.js";
import { RETIRED_KEYS_DIR, destroyRetiredPrivateKey, generateSigningKey, rotateSigningKey, type SigningKey } from "../../audit/core/keys.js";
import { keyRotatedEvent } from "../../audit/events.js";
import { AuditQueueWriter } from "../../audit/store/queue.js";
import { openDatabase } from "../../bootstrap/database.js";
import type { CommandContext } from "../context.js";

/** `atomic keys generate`: creates the audit signing key (0600) and its public JWK for auditors. */
export function generateKeyCommand(context: CommandContext): number {
  const paths = auditKeyPaths(context.config);
  if (existsSync(paths.signingKey)) {
    context.err(`refused: ${paths.signingKey} already exists; a log keeps its key (replace it with atomic keys rotate)`);
    return 1;
  }
  const key = generateSigningKey(paths.dir, context.config.audit.origin);
  context.out(`signing key ${paths.signingKey} (mode 0600)`);
  context.out(`public key for auditors: ${paths.publicJwk}`);
  context.out(`tell them, out of band, its identity: ${describeKey(keyIdentity(key.name, key.publicKey))}`);
  return 0;
}

/**
 * `atomic keys rotate`: retires the signing key, generates its successor and logs the rotation (key.rotated, with the
 * old key's handover signature over the new one). The gateway loads its key at start, so it must be stopped now
 * and restarted afterwards to sign with the new key.
 */
export async function rotateKeyCommand(context: CommandContext): Promise<number> {
  const { config } = context;
  const paths = auditKeyPaths(config);
  if (!existsSync(paths.signingKey)) {
    context.err(`refused: no signing key at ${paths.signingKey} to rotate (create one with atomic keys generate)`);
    return 1;
  }
  // The database first: if it cannot be opened, nothing is rotated, and no rotation goes unrecorded.
  const database = await openDatabase(config, context.logger);
  let next: SigningKey;
  try {
    const rotation = rotateSigningKey(paths.dir, config.audit.origin);
    next = rotation.next;
    await new AuditQueueWriter(database.stores.pool).enqueue(keyRotatedEvent(config.audit.origin, rotation));
    // Only once the handover (the old key's signature over the new one) is queued: until then it could be redone.
    destroyRetiredPrivateKey(paths.dir, rotation.previous);
  } finally {
    await database.close();
  }
  context.out(`retired the old key: its private key is deleted, its public JWK kept in ${join(paths.dir, RETIRED_KEYS_DIR)} (auditors keep it for earlier exports)`);
  context.out(`new public key for auditors: ${paths.publicJwk}`);
  context.out(`tell them, out of band, its identity: ${describeKey(keyIdentity(next.name, next.publicKey))}`);
  context.out("restart the gateway: it signs with the new key from its next start");
  return 0;
}
