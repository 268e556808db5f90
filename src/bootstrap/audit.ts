import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { ContentHasher } from "../audit/content-hasher.js";
import { keyIdentity } from "../audit/core/key-identity.js";
import { generateSigningKey, loadRetiredPublicKeys, loadSigningKey, publicJwk, type SigningKey } from "../audit/core/keys.js";
import { systemEvent } from "../audit/events.js";
import { auditKeyPaths } from "../audit/key-files.js";
import { AuditQueueWriter } from "../audit/store/queue.js";
import { SequencerThread } from "../audit/store/sequencer-thread.js";
import { AuditLogReader } from "../audit/store/reader.js";
import { exportArchive } from "../audit/archive.js";
import type { AuditDeps, AuditStatus } from "../gateway/deps.js";
import type { OpenDatabase } from "./database.js";
import type { Config } from "../config/schema.js";
import type { ModelLifecycleEvent } from "../inference/llama/model-host.js";
import type { Logger } from "../observability/logger.js";
import { canonicalize } from "../util/canonical-json.js";
import type { AuditEvent } from "../audit/core/entry.js";

const DRAIN_ON_CLOSE_MS = 5_000;

export interface RunningAudit {
  /** What the HTTP routes read. */
  deps: AuditDeps;
  /** The backlog, leadership and public keys the operators' routes show. */
  status: AuditStatus;
  key: SigningKey;
  hasher: ContentHasher;
  sequencer: SequencerThread;
  reader: AuditLogReader;
  /** Queues an event that is not part of a request (model lifecycle, startup); failures are logged, not thrown. */
  record(event: AuditEvent): Promise<void>;
  onModelLifecycle(event: ModelLifecycleEvent): void;
  close(): Promise<void>;
}

/**
 * Loads (or on first start creates) the audit keys, starts this process's candidate sequencer, and records the
 * start itself: which configuration and which signing key the log runs under from here on.
 */
export async function startAudit(config: Config, database: Pick<OpenDatabase, "url" | "stores">, logger: Logger): Promise<RunningAudit> {
  const { pool } = database.stores;
  const paths = auditKeyPaths(config);
  const created = !existsSync(paths.signingKey);
  const key = created ? generateSigningKey(paths.dir, config.audit.origin) : loadSigningKey(paths.signingKey, config.audit.origin);
  if (created) logger.warn({ key: paths.signingKey, publicKey: paths.publicJwk }, "generated the audit signing key; give auditors the public key");
  const retiredKeys = loadRetiredPublicKeys(paths.dir, config.audit.origin);
  // What an auditor compares, out of band, with the public key they were handed before trusting it.
  logger.info(
    { ...keyIdentity(key.name, key.publicKey), publicKey: paths.publicJwk, retired: retiredKeys.map((retired) => keyIdentity(retired.name, retired.publicKey)) },
    "audit signing key",
  );
  const hasher = ContentHasher.fromFile(paths.contentHashKey);
  const log = logger.child({ component: "audit" });
  const sequencer = new SequencerThread({
    databaseUrl: database.url,
    pool,
    key,
    retired: retiredKeys,
    origin: config.audit.origin,
    batchSize: config.audit.batchSize,
    intervalMs: config.audit.intervalMs,
    logger: log,
  });
  await sequencer.start();

  const queue = new AuditQueueWriter(pool);
  const record = async (event: AuditEvent) => {
    try {
      await queue.enqueue(event);
    } catch (error) {
      log.error({ err: error, kind: event.kind }, "could not queue an audit event");
    }
  };
  const jwk = publicJwk(key);
  if (created) await record(systemEvent("key.generated", { detail: { keyName: key.name, publicKey: jwk.x } }));
  await record(systemEvent("config.loaded", {
    detail: {
      configSha256: createHash("sha256").update(canonicalize(config)).digest("hex"),
      signingKey: jwk.x,
      contentHashKeyId: hasher.keyId,
    },
  }));

  const reader = new AuditLogReader(pool);
  return {
    deps: { reader, exportArchive: (request) => exportArchive(pool, key, request, retiredKeys), record, append: (event) => queue.enqueue(event) },
    status: {
      backlog: () => reader.backlog(),
      isLeader: () => sequencer.isLeader,
      publicKeys: [key, ...retiredKeys].map((k) => ({ jwk: publicJwk(k), identity: keyIdentity(k.name, k.publicKey) })),
    },
    key,
    hasher,
    sequencer,
    reader,
    record,
    onModelLifecycle: (event) => {
      void record(systemEvent(event.kind === "loaded" ? "model.loaded" : "model.refused", {
        model: { id: event.modelId, sha256: event.sha256 },
        ...(event.kind === "loaded" ? {} : { outcome: { status: "refused" as const, code: event.code }, detail: { reason: event.reason, crashed: event.kind === "crashed" } }),
      }));
    },
    close: async () => {
      // Sequence what this process acknowledged before it goes, but never hang a shutdown on it: queued events
      // are durable and the next sequencer takes them.
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_ON_CLOSE_MS)));
      await Promise.race([sequencer.drain().catch((error: unknown) => log.warn({ err: error }, "audit drain on close failed")), patience]);
      clearTimeout(timer);
      await sequencer.stop();
    },
  };
}
