import type { Pool, PoolClient } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import {
  SchemaVersionConflictError,
  type NewSchema,
  type SchemaRecord,
  type SchemaStore,
} from "../interface.js";
import { schemaDigest } from "../schema-digest.js";
import { isValidSchemaName } from "../schema-name.js";
import { inTransaction } from "./transaction.js";

/**
 * First key of the two-key advisory lock taken per schema name while registering. Two-key locks live in a key
 * space apart from the one-key (bigint) migration lock, so the two cannot collide.
 */
const SCHEMA_LOCK_CLASS = 0x5343_4845; // "SCHE"

interface SchemaRow {
  name: string;
  version: number;
  description: string | null;
  schema: Record<string, unknown>;
  digest: string;
  created_at: Date;
}

const COLUMNS = "name, version, description, schema, digest, created_at";

export class PostgresSchemaStore implements SchemaStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Serialised per name, so that concurrent registrations without a version get consecutive versions instead of
   * racing for the same one. Without a version, a document identical to the latest version returns that version:
   * a retried registration must not mint a duplicate. The description is not part of a schema's identity.
   */
  async register(tenant: string, input: NewSchema, describe?: (registration: { record: SchemaRecord; created: boolean }) => AuditEvent): Promise<SchemaRecord> {
    assertRegistrable(input);
    return inTransaction(this.pool, async (client) => {
      const registration = await this.registerIn(client, tenant, input);
      if (describe !== undefined) await enqueueAuditEvent(client, describe(registration));
      return registration.record;
    });
  }

  private async registerIn(client: PoolClient, tenant: string, input: NewSchema): Promise<{ record: SchemaRecord; created: boolean }> {
    const digest = schemaDigest(input.schema);
    // Keyed by tenant and name: a collision of hashtext only makes two registrations wait for each other.
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [SCHEMA_LOCK_CLASS, `${tenant}\n${input.name}`]);
    let version: number;
    if (input.version === undefined) {
      const latest = await selectOne(client, tenant, input.name);
      if (latest !== null && latest.digest === digest) return { record: toRecord(latest), created: false };
      version = (latest?.version ?? 0) + 1;
    } else {
      const existing = await selectOne(client, tenant, input.name, input.version);
      if (existing !== null) {
        if (existing.digest !== digest) throw new SchemaVersionConflictError(input.name, input.version);
        return { record: toRecord(existing), created: false };
      }
      version = input.version;
    }
    const inserted = await client.query<SchemaRow>(
      `INSERT INTO schemas (tenant, name, version, description, schema, digest) VALUES ($1, $2, $3, $4, $5::json, $6)
       RETURNING ${COLUMNS}`,
      [tenant, input.name, version, input.description ?? null, JSON.stringify(input.schema), digest],
    );
    return { record: toRecord(inserted.rows[0] as SchemaRow), created: true };
  }

  async get(tenant: string, name: string, version?: number): Promise<SchemaRecord | null> {
    if (!isValidSchemaName(name) || (version !== undefined && !isValidVersion(version))) return null;
    const row = await selectOne(this.pool, tenant, name, version);
    return row === null ? null : toRecord(row);
  }

  async list(tenant: string): Promise<SchemaRecord[]> {
    const result = await this.pool.query<SchemaRow>(
      `SELECT DISTINCT ON (name) ${COLUMNS} FROM schemas WHERE tenant = $1 ORDER BY name, version DESC`,
      [tenant],
    );
    return result.rows.map(toRecord);
  }
}

function assertRegistrable(input: NewSchema): void {
  if (!isValidSchemaName(input.name)) {
    throw new RangeError(`invalid schema name ${JSON.stringify(input.name)}: use letters, digits, '.', '_' and '-'`);
  }
  if (input.version !== undefined && !isValidVersion(input.version)) {
    throw new RangeError(`invalid schema version ${input.version}: versions are whole numbers from 1`);
  }
}

/** Whole, at least 1, and within PostgreSQL's int. */
function isValidVersion(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= 2 ** 31 - 1;
}

/** The given version, or the latest one when version is undefined. */
async function selectOne(client: Pool | PoolClient, tenant: string, name: string, version?: number): Promise<SchemaRow | null> {
  const result =
    version === undefined
      ? await client.query<SchemaRow>(
          `SELECT ${COLUMNS} FROM schemas WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT 1`,
          [tenant, name],
        )
      : await client.query<SchemaRow>(`SELECT ${COLUMNS} FROM schemas WHERE tenant = $1 AND name = $2 AND version = $3`, [
          tenant,
          name,
          version,
        ]);
  return result.rows[0] ?? null;
}

function toRecord(row: SchemaRow): SchemaRecord {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    schema: row.schema,
    digest: row.digest,
    createdAt: row.created_at,
  };
}
