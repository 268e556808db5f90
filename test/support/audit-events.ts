import pg from "pg";
import { decodeLeaf, type AuditEvent } from "../../src/audit/core/entry.js";

/** Every sequenced event of the log in `databaseUrl`, in log order: what an auditor's export would hold. */
export async function auditEvents(databaseUrl: string): Promise<AuditEvent[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ leaf: Buffer }>("SELECT leaf FROM audit_log ORDER BY idx");
    return result.rows.map((row) => decodeLeaf(row.leaf).event);
  } finally {
    await client.end();
  }
}
