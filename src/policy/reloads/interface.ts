import type { AuditEvent } from "../../audit/core/entry.js";

/** A policy reload an operator made on one gateway, as every gateway of the database reads it. */
export interface PolicyReload {
  /** Orders the reloads: a follower acts on one newer than the last it saw. */
  id: number;
  requestedAt: Date;
  /** The subject of the credential that asked. */
  requestedBy: string;
  /** The set the asked gateway loaded. */
  policySetHash: string;
}

/** The site's log of policy reloads (./postgres.ts). */
export interface PolicyReloadLog {
  /** The newest, or null when none was ever made. */
  latest(): Promise<PolicyReload | null>;
  /** Appends one, with its audit event queued in the same transaction: no reload announced without its record. */
  announce(reload: Pick<PolicyReload, "requestedBy" | "policySetHash">, describe: (written: PolicyReload) => AuditEvent): Promise<PolicyReload>;
}
