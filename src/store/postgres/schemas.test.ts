import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.js";
import { systemEvent } from "../../audit/events.js";
import { SchemaVersionConflictError } from "../interface.js";
import { schemaDigest } from "../schema-digest.js";
import { createPool } from "./database.js";
import { migrate } from "./migrate.js";
import { PostgresSchemaStore } from "./schemas.js";

const TENANT = "ward-7";
let database: TestDatabase;
let pool: Pool;
let store: PostgresSchemaStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
  store = new PostgresSchemaStore(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** Each test uses its own names, so tests do not see each other's versions. */
let counter = 0;
function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}.${counter}`;
}

function objectSchema(property: string): Record<string, unknown> {
  return { type: "object", properties: { [property]: { type: "string" } }, required: [property] };
}

describe("PostgresSchemaStore", () => {
  it("queues the registration's audit event in its transaction, and stores neither when the event is refused", async () => {
    const name = uniqueName("audited");
    const seen: boolean[] = [];
    const describeRegistration = ({ record, created }: { record: { name: string; version: number }; created: boolean }) => {
      seen.push(created);
      return systemEvent("schema.registered", { detail: { name: record.name, version: record.version, created } });
    };
    await store.register(TENANT, { name, schema: objectSchema("a") }, describeRegistration);
    await store.register(TENANT, { name, schema: objectSchema("a") }, describeRegistration);
    expect(seen).toEqual([true, false]);
    const queued = await pool.query<{ event: string }>("SELECT event FROM audit_queue WHERE event LIKE $1 ORDER BY enqueued_at", [`%"name":"${name}"%`]);
    expect(queued.rows.map((row) => JSON.parse(row.event).detail)).toEqual([{ name, version: 1, created: true }, { name, version: 1, created: false }]);

    const refused = uniqueName("refused");
    await expect(store.register(TENANT, { name: refused, schema: objectSchema("a") }, () => ({ ...systemEvent("schema.registered", {}), id: "not-a-uuid" }))).rejects.toThrow(TypeError);
    expect(await store.get(TENANT, refused)).toBeNull();
  });

  it("numbers versions from 1 when none is given and returns the latest by default", async () => {
    const name = uniqueName("invoice");
    const v1 = await store.register(TENANT, { name, description: "first", schema: objectSchema("a") });
    const v2 = await store.register(TENANT, { name, schema: objectSchema("b") });

    expect(v1).toMatchObject({ name, version: 1, description: "first", schema: objectSchema("a") });
    expect(v1.createdAt).toBeInstanceOf(Date);
    expect(v2).toMatchObject({ version: 2, description: null });
    expect(await store.get(TENANT, name)).toEqual(v2);
    expect(await store.get(TENANT, name, 1)).toEqual(v1);
    expect(await store.get(TENANT, name, 3)).toBeNull();
    expect(await store.get(TENANT, "no-such-schema")).toBeNull();
  });

  it("digests the canonical JSON, so key order does not matter and the digest can be recomputed", async () => {
    const name = uniqueName("order");
    const record = await store.register(TENANT, { name, schema: { type: "object", required: ["x"], properties: {} } });
    const reordered = await store.register(TENANT, { name, version: 1, schema: { properties: {}, required: ["x"], type: "object" } });

    expect(reordered).toEqual(record);
    expect(record.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(schemaDigest(record.schema)).toBe(record.digest);
  });

  it("is idempotent for the same document under the same version, and refuses a different one", async () => {
    const name = uniqueName("ticket");
    const original = await store.register(TENANT, { name, version: 1, schema: objectSchema("a") });

    expect(await store.register(TENANT, { name, version: 1, description: "ignored", schema: objectSchema("a") })).toEqual(original);
    const conflict = store.register(TENANT, { name, version: 1, schema: objectSchema("b") });
    await expect(conflict).rejects.toBeInstanceOf(SchemaVersionConflictError);
    await expect(conflict).rejects.toMatchObject({ schemaName: name, version: 1 });
    expect(await store.get(TENANT, name)).toEqual(original);
  });

  it("returns the latest version instead of minting a new one when it is re-registered without a version", async () => {
    const name = uniqueName("retry");
    const first = await store.register(TENANT, { name, schema: objectSchema("a") });
    expect(await store.register(TENANT, { name, schema: objectSchema("a") })).toEqual(first);

    await store.register(TENANT, { name, schema: objectSchema("b") });
    expect((await store.register(TENANT, { name, schema: objectSchema("a") })).version).toBe(3);
  });

  it("accepts an explicit version beyond the latest and continues numbering from it", async () => {
    const name = uniqueName("jump");
    await store.register(TENANT, { name, schema: objectSchema("a") });
    expect((await store.register(TENANT, { name, version: 5, schema: objectSchema("b") })).version).toBe(5);
    expect((await store.register(TENANT, { name, schema: objectSchema("c") })).version).toBe(6);
  });

  it("gives concurrent registrations without a version distinct, consecutive versions", async () => {
    const name = uniqueName("busy");
    const documents = Array.from({ length: 8 }, (_, i) => objectSchema(`field${i}`));

    const records = await Promise.all(documents.map((schema) => store.register(TENANT, { name, schema })));

    expect(records.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [i, record] of records.entries()) expect(record.schema).toEqual(documents[i]);
  });

  it("refuses names outside the safe alphabet and versions below 1", async () => {
    await expect(store.register(TENANT, { name: "../etc/passwd", schema: {} })).rejects.toThrow(/invalid schema name/);
    await expect(store.register(TENANT, { name: "-leading", schema: {} })).rejects.toThrow(/invalid schema name/);
    await expect(store.register(TENANT, { name: uniqueName("v"), version: 0, schema: {} })).rejects.toThrow(/invalid schema version/);
    expect(await store.get(TENANT, "../etc/passwd")).toBeNull();
    expect(await store.get(TENANT, "fine", 1.5)).toBeNull();
  });

  it("keeps each tenant's registry apart: same names, own versions, nothing visible across", async () => {
    const name = uniqueName("shared-name");
    const mine = await store.register(TENANT, { name, schema: objectSchema("a") });
    const theirs = await store.register("ward-8", { name, schema: objectSchema("b") });

    expect(mine.version).toBe(1);
    expect(theirs.version).toBe(1);
    expect(await store.get(TENANT, name)).toEqual(mine);
    expect(await store.get("ward-8", name)).toEqual(theirs);
    expect(await store.get("ward-9", name)).toBeNull();
  });

  it("lists the latest version of every schema, ordered by name", async () => {
    // A database of its own, so other tests' schemas do not appear in the list.
    const own = await createTestDatabase();
    const ownPool = createPool(own.url);
    try {
      await migrate(ownPool);
      const listed = new PostgresSchemaStore(ownPool);
      await listed.register(TENANT, { name: "zeta", schema: objectSchema("a") });
      await listed.register(TENANT, { name: "alpha", schema: objectSchema("a") });
      const alpha2 = await listed.register(TENANT, { name: "alpha", schema: objectSchema("b") });
      const zeta = await listed.get(TENANT, "zeta");
      await listed.register("ward-8", { name: "other", schema: objectSchema("a") });

      expect(await listed.list(TENANT)).toEqual([alpha2, zeta]);
      expect((await listed.list("ward-8")).map((record) => record.name)).toEqual(["other"]);
    } finally {
      await ownPool.end();
      await own.drop();
    }
  });
});
