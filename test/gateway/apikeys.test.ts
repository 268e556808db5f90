import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/identity/api-key.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * API keys administered over HTTP on a running gateway. The key cache is as long as it may be, so that a key that
 * stops working right after its revocation shows the revoking gateway forgot it, not that a cache expired.
 */
let gw: TestGateway;
let otherAdmin: string;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]), auth: { apiKeyCacheMs: 300_000 } });
  otherAdmin = await gw.issueKey("ward-8", ["admin"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const create = (body: unknown, headers: Record<string, string> = {}) => gw.post("/v1/admin/apikeys", body, headers);
const list = async (key?: string) => {
  const response = await gw.fetch("/v1/admin/apikeys", key === undefined ? {} : { headers: as(key) });
  expect(response.status).toBe(200);
  return { text: await response.clone().text(), body: (await response.json()) as { object: string; data: Array<Record<string, unknown>> } };
};
const revoke = (id: string, headers: Record<string, string> = {}) => gw.post(`/v1/admin/apikeys/${id}/revoke`, {}, headers);
const models = (key: string) => gw.fetch("/v1/models", { headers: as(key) });

describe("POST /v1/admin/apikeys", () => {
  it("issues a key of the caller's tenant, shown once and never cached, that authenticates with its scopes", async () => {
    const response = await create({ scopes: ["infer", "embed"], description: "radiology reports" });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const issued = await response.json();
    expect(issued).toMatchObject({ object: "api_key", tenant: "default", scopes: ["infer", "embed"], description: "radiology reports", revoked_at: null });
    expect(issued.key).toMatch(new RegExp(`^atk_${issued.id}_[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(issued.created_at)).not.toBeNaN();

    expect((await models(issued.key)).status).toBe(200);
    const refused = await gw.fetch("/v1/admin/apikeys", { headers: as(issued.key) });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
  });

  it("refuses bad input with a stable code and stores nothing", async () => {
    const before = (await list()).body.data.length;
    const cases: Array<[unknown, string, string | null]> = [
      [{ scopes: ["infer", "root"] }, "invalid_parameter", "scopes[1]"],
      [{ scopes: [] }, "invalid_parameter", "scopes"],
      [{}, "missing_parameter", "scopes"],
      [{ scopes: ["infer"], tenant: "ward-8" }, "unknown_parameter", "tenant"],
      [{ scopes: ["infer"], description: "two\nlines" }, "invalid_parameter", "description"],
      [{ scopes: ["infer"], description: "x".repeat(501) }, "invalid_parameter", "description"],
    ];
    for (const [body, code, param] of cases) {
      const response = await create(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await response.json()).error, JSON.stringify(body)).toMatchObject({ type: "invalid_request_error", code, param });
    }
    const notJson = await gw.fetch("/v1/admin/apikeys", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect((await notJson.json()).error.code).toBe("invalid_json");
    expect((await list()).body.data.length).toBe(before);
  });

  it("is for admins only", async () => {
    const infer = await gw.issueKey("default", ["infer", "tasks", "audit:read"]);
    for (const response of [await create({ scopes: ["infer"] }, as(infer)), await gw.fetch("/v1/admin/apikeys", { headers: as(infer) }), await revoke("0000000000000000", as(infer))]) {
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("insufficient_scope");
    }
    expect((await fetch(`${gw.url}/v1/admin/apikeys`)).status).toBe(401);
  });
});

describe("GET /v1/admin/apikeys", () => {
  it("lists the caller's tenant's keys, revoked ones too, without the secret or its hash", async () => {
    const issued = await (await create({ scopes: ["tasks"] })).json();
    const { text, body } = await list();
    expect(body.object).toBe("list");
    expect(new Set(body.data.map((key) => key["tenant"]))).toEqual(new Set(["default"]));
    const listed = body.data.find((key) => key["id"] === issued.id)!;
    expect(listed).toEqual({ object: "api_key", id: issued.id, tenant: "default", scopes: ["tasks"], description: null, created_at: issued.created_at, revoked_at: null });
    expect(text).not.toContain(issued.key.slice(21));
    const hash = hashApiKey(issued.key);
    for (const encoding of ["hex", "base64", "base64url"] as const) expect(text).not.toContain(hash.toString(encoding));

    const other = await list(otherAdmin);
    expect(other.body.data.map((key) => key["tenant"])).toEqual(["ward-8"]);
  });
});

describe("POST /v1/admin/apikeys/:id/revoke", () => {
  it("revokes at once on this gateway, though the key's lookup is cached, and is idempotent", async () => {
    const issued = await (await create({ scopes: ["infer"] })).json();
    expect((await models(issued.key)).status).toBe(200);

    const response = await revoke(issued.id);
    expect(response.status).toBe(200);
    const revoked = await response.json();
    expect(revoked).toMatchObject({ object: "api_key", id: issued.id, tenant: "default" });
    expect(Date.parse(revoked.revoked_at)).not.toBeNaN();
    expect(revoked).not.toHaveProperty("key");
    expect((await models(issued.key)).status).toBe(401);

    const again = await (await revoke(issued.id)).json();
    expect(again.revoked_at).toBe(revoked.revoked_at);
    expect((await list()).body.data.find((key) => key["id"] === issued.id)?.["revoked_at"]).toBe(revoked.revoked_at);
  });

  it("answers another tenant's key as unknown and leaves it working; refuses a malformed id", async () => {
    const foreign = await (await create({ scopes: ["infer"] }, as(otherAdmin))).json();
    expect(foreign.tenant).toBe("ward-8");
    for (const id of [foreign.id, "0123456789abcdef"]) {
      const response = await revoke(id);
      expect(response.status).toBe(404);
      expect((await response.json()).error).toMatchObject({ type: "not_found_error", code: "api_key_not_found", param: "id" });
    }
    expect((await models(foreign.key)).status).toBe(200);
    const malformed = await revoke("not-a-key-id");
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ code: "invalid_parameter", param: "id" });
  });

  it("audits each issue and each revocation once, naming who did it and never the key", async () => {
    const issued = await (await create({ scopes: ["embed"] })).json();
    await revoke(issued.id);
    await revoke(issued.id);
    await gw.gateway.audit.sequencer.drain();
    const events = (await auditEvents(gw.databaseUrl)).filter((event) => event.detail?.["keyId"] === issued.id);
    expect(events.map((event) => event.kind)).toEqual(["apikey.created", "apikey.revoked"]);
    for (const event of events) {
      expect(event.actor).toMatchObject({ tenant: "default", subject: expect.stringMatching(/^apikey:[0-9a-f]{16}$/), tokenIdHash: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(event.detail).toEqual({ keyId: issued.id, tenant: "default", scopes: ["embed"] });
    }
    expect(events[0]!.request?.endpoint).toBe("POST /v1/admin/apikeys");
    expect(events[1]!.request?.endpoint).toBe("POST /v1/admin/apikeys/:id/revoke");
    expect(JSON.stringify(await auditEvents(gw.databaseUrl))).not.toContain(issued.key.slice(21));
  });
});
