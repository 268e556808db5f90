import type { AuditEvent } from "../../audit/core/entry.js";
import type { ModelServiceStore, NewModelService, StoredModelService } from "./interface.js";

/**
 * The choices in this process's memory, for a gateway or worker without a shared database (and for tests): the
 * same interface as PostgresModelServiceStore. `record`, when given, gets each change's audit event.
 */
export class MemoryModelServiceStore implements ModelServiceStore {
  private readonly rows = new Map<string, StoredModelService>();

  constructor(private readonly record?: (event: AuditEvent) => Promise<void>) {}

  async list(): Promise<StoredModelService[]> {
    return [...this.rows.values()].sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0)).map((row) => ({ ...row }));
  }

  async set(choice: NewModelService, describe?: (written: StoredModelService) => AuditEvent): Promise<StoredModelService> {
    const written: StoredModelService = { ...choice, updatedAt: new Date() };
    const event = describe?.(written);
    if (event !== undefined) await this.record?.(event);
    this.rows.set(choice.modelId, written);
    return { ...written };
  }
}
