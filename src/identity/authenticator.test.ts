import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.js";
import { PostgresApiKeyStore } from "../store/postgres/api-keys.js";
import { createPool } from "../store/postgres/database.js";
import { migrate } from "../store/postgres/migrate.js";
import { generateApiKey } from "./api-key.js";
import { Authenticator } from "./authenticator.js";
import { AuthenticationError } from "./errors.js";
import { issueApiKey } from "./issue.js";

let database: TestDatabase;
let pool: Pool;
let store: PostgresApiKeyStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
  store = new PostgresApiKeyStore(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

async function refused(authenticator: Authenticator, header: string | undefined): Promise<AuthenticationError> {
  const error = await authenticator.authenticate(header).then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

describe("Authenticator with API keys in PostgreSQL", () => {
  it("maps a stored key to its tenant and scopes, never storing the key itself", async () => {
    const issued = (await issueApiKey(store, { tenant: "ward-7", scopes: ["infer", "embed", "infer"] }))!;
    const principal = await new Authenticator({ apiKeys: store }).authenticate(`Bearer ${issued.key}`);

    expect(principal).toMatchObject({ kind: "api_key", subject: `apikey:${issued.record.id}`, tenant: "ward-7" });
    expect([...principal.scopes].sort()).toEqual(["embed", "infer"]);
    const stored = await pool.query("SELECT * FROM api_keys WHERE id = $1", [issued.record.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(issued.key.slice(21));
  });

  it("refuses a missing header, other schemes, a wrong secret for a real id, an unknown id and a malformed key", async () => {
    const issued = (await issueApiKey(store, { tenant: "ward-7", scopes: ["infer"] }))!;
    const authenticator = new Authenticator({ apiKeys: store });
    const wrongSecret = `${issued.key.slice(0, 21)}${generateApiKey().key.slice(21)}`;

    expect((await refused(authenticator, undefined)).code).toBe("credentials_missing");
    for (const header of [`Basic ${issued.key}`, issued.key, `Bearer ${wrongSecret}`, `Bearer ${generateApiKey().key}`, `Bearer ${issued.key}x`, "Bearer eyJhbGciOiJFZERTQSJ9.e30.x"]) {
      expect((await refused(authenticator, header)).code).toBe("credentials_invalid");
    }
  });

  it("stops accepting a revoked key once its cached lookup expires (immediately with no cache)", async () => {
    const issued = (await issueApiKey(store, { tenant: "ward-7", scopes: ["infer"] }))!;
    const uncached = new Authenticator({ apiKeys: store, keyCacheMs: 0 });
    const cached = new Authenticator({ apiKeys: store, keyCacheMs: 60_000 });
    await uncached.authenticate(`Bearer ${issued.key}`);
    await cached.authenticate(`Bearer ${issued.key}`);

    expect((await store.revoke(issued.record.id))?.record.revokedAt).toBeInstanceOf(Date);
    expect((await refused(uncached, `Bearer ${issued.key}`)).reason).toMatch(/unknown, revoked or wrong/);
    // The documented window: a gateway trusts a looked-up key for auth.apiKeyCacheMs.
    expect((await cached.authenticate(`Bearer ${issued.key}`)).tenant).toBe("ward-7");
  });

  it("refuses a forgotten key from the next request on, even when a lookup was in flight across the revocation", async () => {
    const issued = (await issueApiKey(store, { tenant: "ward-7", scopes: ["infer"] }))!;
    let read!: () => void;
    let release!: () => void;
    const wasRead = new Promise<void>((resolve) => (read = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first lookup reads the key while it is active and answers only after it was revoked and forgotten.
    let lookups = 0;
    const slow = {
      get: async (id: string) => {
        const record = await store.get(id);
        if ((lookups += 1) === 1) {
          read();
          await released;
        }
        return record;
      },
    };
    const authenticator = new Authenticator({ apiKeys: slow, keyCacheMs: 60_000 });
    const inFlight = authenticator.authenticate(`Bearer ${issued.key}`);
    await wasRead;
    await store.revoke(issued.record.id);
    authenticator.forget(issued.record.id);
    release();
    expect((await inFlight).tenant).toBe("ward-7");
    expect((await refused(authenticator, `Bearer ${issued.key}`)).reason).toMatch(/unknown, revoked or wrong/);
    expect(lookups).toBe(2);
  });

  it("issues the first-start key exactly once, however many gateways start together", async () => {
    const own = await createTestDatabase();
    const ownPool = createPool(own.url, { max: 8 });
    try {
      await migrate(ownPool);
      const ownStore = new PostgresApiKeyStore(ownPool);
      const attempts = await Promise.all(
        Array.from({ length: 6 }, () => issueApiKey(ownStore, { tenant: "default", scopes: ["admin"] }, { first: true })),
      );
      expect(attempts.filter((issued) => issued !== null)).toHaveLength(1);
      expect(await ownStore.countActive()).toBe(1);
    } finally {
      await ownPool.end();
      await own.drop();
    }
  });

  it("refuses tenants that are not plain names and keys without scopes, storing nothing", async () => {
    const before = (await store.list()).length;
    await expect(issueApiKey(store, { tenant: "ward 7", scopes: ["infer"] })).rejects.toThrow(/not a plain name/);
    await expect(issueApiKey(store, { tenant: "ward-7", scopes: [] })).rejects.toThrow(/at least one scope/);
    expect((await store.list()).length).toBe(before);
  });
});
