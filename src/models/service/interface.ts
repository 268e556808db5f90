import type { AuditEvent } from "../../audit/core/entry.js";

/**
 * An operator's choice for a pinned model, shared by every gateway and `atomic worker` on the database: unloaded
 * (POST /v1/admin/models/:id/unload) or in service again (/load). No row: in service. PostgreSQL keeps them
 * (./postgres.ts; ./memory.ts for a process on its own); src/pipeline/model-service.ts applies them.
 */
export interface StoredModelService {
  modelId: string;
  unloaded: boolean;
  /** The pin the change was made at; the choice holds for the id, whatever it is pinned to later. */
  sha256: string | null;
  updatedAt: Date;
  /** The subject of the credential that made the change. */
  updatedBy: string;
}

export type NewModelService = Omit<StoredModelService, "updatedAt">;

export interface ModelServiceStore {
  /** Every model's stored choice. */
  list(): Promise<StoredModelService[]>;
  /**
   * Stores the choice for a model (replacing any), stamped now; returns it as stored. With `describe`, the audit
   * event it makes of it is queued in the same transaction: no change without its record.
   */
  set(choice: NewModelService, describe?: (written: StoredModelService) => AuditEvent): Promise<StoredModelService>;
}
