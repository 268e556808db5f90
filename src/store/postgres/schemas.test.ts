import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.js";
import { SchemaVersionConflictError } from "../interface.js";
import { schemaDigest } from "../schema-digest.js";
import { createPool } from "./database.js";
import { migrate } from "./migrate.js";
import { PostgresSchemaStore } from "./schemas.js";

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
  it("numbers versions from 1 when none is given and returns the latest by default", async () => {
    const name = uniqueName("invoice");
    const v1 = await store.register({ name, description: "first", schema: objectSchema("a") });
    const v2 = await store.register({ name, schema: objectSchema("b") });

    expect(v1).toMatchObject({ name, version: 1, description: "first", schema: objectSchema("a") });
    expect(v1.createdAt).toBeInstanceOf(Date);
    expect(v2).toMatchObject({ version: 2, description: null });
    expect(await store.get(name)).toEqual(v2);
    expect(await store.get(name, 1)).toEqual(v1);
    expect(await store.get(name, 3)).toBeNull();
    expect(await store.get("no-such-schema")).toBeNull();
  });

  it("digests the canonical JSON, so key order does not matter and the digest can be recomputed", async () => {
    const name = uniqueName("order");
    const record = await store.register({ name, schema: { type: "object", required: ["x"], properties: {} } });
    const reordered = await store.register({ name, version: 1, schema: { properties: {}, required: ["x"], type: "object" } });

    expect(reordered).toEqual(record);
    expect(record.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(schemaDigest(record.schema)).toBe(record.digest);
  });

  it("is idempotent for the same document under the same version, and refuses a different one", async () => {
    const name = uniqueName("ticket");
    const original = await store.register({ name, version: 1, schema: objectSchema("a") });

    expect(await store.register({ name, version: 1, description: "ignored", schema: objectSchema("a") })).toEqual(original);
    const conflict = store.register({ name, version: 1, schema: objectSchema("b") });
    await expect(conflict).rejects.toBeInstanceOf(SchemaVersionConflictError);
    await expect(conflict).rejects.toMatchObject({ schemaName: name, version: 1 });
    expect(await store.get(name)).toEqual(original);
  });

  it("returns the latest version instead of minting a new one when it is re-registered without a version", async () => {
    const name = uniqueName("retry");
    const first = await store.register({ name, schema: objectSchema("a") });
    expect(await store.register({ name, schema: objectSchema("a") })).toEqual(first);

    await store.register({ name, schema: objectSchema("b") });
    expect((await store.register({ name, schema: objectSchema("a") })).version).toBe(3);
  });

  it("accepts an explicit version beyond the latest and continues numbering from it", async () => {
    const name = uniqueName("jump");
    await store.register({ name, schema: objectSchema("a") });
    expect((await store.register({ name, version: 5, schema: objectSchema("b") })).version).toBe(5);
    expect((await store.register({ name, schema: objectSchema("c") })).version).toBe(6);
  });

  it("gives concurrent registrations without a version distinct, consecutive versions", async () => {
    const name = uniqueName("busy");
    const documents = Array.from({ length: 8 }, (_, i) => objectSchema(`field${i}`));

    const records = await Promise.all(documents.map((schema) => store.register({ name, schema })));

    expect(records.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [i, record] of records.entries()) expect(record.schema).toEqual(documents[i]);
  });

  it("refuses names outside the safe alphabet and versions below 1", async () => {
    await expect(store.register({ name: "../etc/passwd", schema: {} })).rejects.toThrow(/invalid schema name/);
    await expect(store.register({ name: "-leading", schema: {} })).rejects.toThrow(/invalid schema name/);
    await expect(store.register({ name: uniqueName("v"), version: 0, schema: {} })).rejects.toThrow(/invalid schema version/);
    expect(await store.get("../etc/passwd")).toBeNull();
    expect(await store.get("fine", 1.5)).toBeNull();
  });

  it("lists the latest version of every schema, ordered by name", async () => {
    // A database of its own, so other tests' schemas do not appear in the list.
    const own = await createTestDatabase();
    const ownPool = createPool(own.url);
    try {
      await migrate(ownPool);
      const listed = new PostgresSchemaStore(ownPool);
      await listed.register({ name: "zeta", schema: objectSchema("a") });
      await listed.register({ name: "alpha", schema: objectSchema("a") });
      const alpha2 = await listed.register({ name: "alpha", schema: objectSchema("b") });
      const zeta = await listed.get("zeta");

      expect(await listed.list()).toEqual([alpha2, zeta]);
    } finally {
      await ownPool.end();
      await own.drop();
    }
  });
});
