import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { SITE_SCOPES, type Scope } from "../../src/identity/principal.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

const ISSUER = "https://idp.hospital.internal";
let gw: TestGateway;
let idpKey: KeyObject;
const keys: Record<string, string> = {};

beforeAll(async () => {
  const idp = generateKeyPairSync("ed25519");
  idpKey = idp.privateKey;
  const jwksFile = join(mkdtempSync(join(tmpdir(), "atomic-idp-")), "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: "idp-1", alg: "EdDSA" }] }));
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }, { id: "tiny-embed", capabilities: ["embedding"] }]),
    auth: { jwt: { jwksFile, issuer: ISSUER, audience: "atomic" } },
  });
  const issue = async (name: string, tenant: string, scopes: Scope[]) => (keys[name] = await gw.issueKey(tenant, scopes));
  await issue("wardInfer", "ward-7", ["infer", "tasks"]);
  await issue("otherWard", "ward-8", ["infer", "embed", "tasks"]);
  await issue("auditRead", "audit", ["audit:read"]);
  await issue("auditExport", "audit", ["audit:export"]);
  await issue("embedOnly", "ward-7", ["embed"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const jwtFor = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: "dr.house", tenant: "ward-7", scope: "infer", ...claims })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "idp-1" })
    .setIssuer(ISSUER).setAudience("atomic").setExpirationTime("5m").sign(idpKey);

const chat = { model: "tiny", messages: [{ role: "user", content: "hello" }], max_tokens: 2 };

/** Every route under /v1 with a body that passes validation, and the scopes that open it. */
const ROUTES: Array<{ method: "GET" | "POST"; path: string; body?: unknown; scopes: Scope[] }> = [
  { method: "POST", path: "/v1/chat/completions", body: chat, scopes: ["infer"] },
  { method: "POST", path: "/v1/completions", body: { model: "tiny", prompt: "x", max_tokens: 2 }, scopes: ["infer"] },
  { method: "POST", path: "/v1/embeddings", body: { model: "tiny-embed", input: "x" }, scopes: ["embed"] },
  { method: "POST", path: "/v1/tasks", body: { input: "x", max_tokens: 2 }, scopes: ["tasks"] },
  { method: "POST", path: "/v1/schemas", body: { name: "probe", schema: { type: "object", properties: { a: { type: "string" } } } }, scopes: ["tasks"] },
  { method: "GET", path: "/v1/schemas", scopes: ["tasks"] },
  { method: "GET", path: "/v1/schemas/probe", scopes: ["tasks"] },
  { method: "GET", path: "/v1/executions/0190c1a2-0000-7000-8000-000000000000", scopes: ["infer", "embed", "tasks"] },
  { method: "GET", path: "/v1/audit/checkpoint", scopes: ["audit:read", "audit:export"] },
  { method: "GET", path: "/v1/audit/receipt/0190c1a2-0000-7000-8000-000000000000", scopes: ["audit:read"] },
  { method: "GET", path: "/v1/audit/consistency?from=1", scopes: ["audit:read"] },
  { method: "GET", path: "/v1/audit/export?from=0&to=0", scopes: ["audit:export"] },
  { method: "GET", path: "/v1/models", scopes: ["infer", "embed", "tasks", "audit:read", "audit:export"] },
];

function call(route: (typeof ROUTES)[number], headers: Record<string, string>): Promise<Response> {
  return fetch(`${gw.url}${route.path}`, {
    method: route.method,
    headers: { ...headers, ...(route.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
  });
}

describe("authentication", () => {
  it("answers every /v1 route without credentials with 401 and a Bearer challenge; health stays open", async () => {
    for (const route of ROUTES) {
      const response = await call(route, {});
      expect(response.status, route.path).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="atomic"');
      expect((await response.json()).error).toMatchObject({ type: "authentication_error", code: "authentication_required" });
    }
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  it("refuses bad credentials alike, without saying which check failed", async () => {
    const revokedLooking = `${keys["wardInfer"]!.slice(0, 21)}${"A".repeat(43)}`;
    const expired = await new SignJWT({ sub: "x", tenant: "ward-7" }).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "idp-1" })
      .setIssuer(ISSUER).setAudience("atomic").setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(idpKey);
    const bodies = new Set<string>();
    for (const header of [`Bearer ${revokedLooking}`, `Bearer ${expired}`, "Bearer nonsense", `Basic ${keys["wardInfer"]}`]) {
      const response = await fetch(`${gw.url}/v1/models`, { headers: { authorization: header } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
      bodies.add(await response.text());
    }
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).toContain("invalid_credentials");
  });

  it("opens each route to exactly the scopes it names; a tenant's admin holds the tenant's, never the site's", async () => {
    const keyFor = new Map<Scope, string>();
    for (const scope of ["infer", "embed", "tasks", "audit:read", "audit:export"] as Scope[]) keyFor.set(scope, await gw.issueKey("ward-7", [scope]));
    for (const route of ROUTES) {
      for (const [scope, key] of keyFor) {
        const response = await call(route, as(key));
        const body = await response.text();
        if (route.scopes.includes(scope)) expect([401, 403], `${route.path} with ${scope}: ${body}`).not.toContain(response.status);
        else {
          expect(response.status, `${route.path} with ${scope}`).toBe(403);
          expect(JSON.parse(body).error).toMatchObject({ type: "permission_error", code: "insufficient_scope" });
        }
      }
      expect([401, 403]).not.toContain((await call(route, as(gw.adminKey))).status);
      const tenantAdmin = await call(route, as(keys["wardAdmin"] ??= await gw.issueKey("ward-7", ["admin"])));
      if (route.scopes.length > 0 && route.scopes.every((scope) => SITE_SCOPES.has(scope))) expect(tenantAdmin.status, `${route.path} as a tenant's admin`).toBe(403);
      else expect([401, 403], `${route.path} as a tenant's admin`).not.toContain(tenantAdmin.status);
    }
  });

  it("issued the first-start admin key into a 0600 file only when no provider was configured", () => {
    // This gateway has a JWT provider, so it issued none (the test support issued its admin key).
    expect(() => statSync(join(gw.dataDir, ADMIN_KEY_FILE))).toThrow();
  });
});

describe("tenant isolation", () => {
  it("hides one tenant's executions from another, whatever the scopes", async () => {
    const response = await gw.post("/v1/chat/completions", chat, as(keys["wardInfer"]!));
    const executionId = response.headers.get("x-atomic-execution-id")!;
    await response.text();

    const own = await gw.fetch(`/v1/executions/${executionId}`, { headers: as(keys["wardInfer"]!) });
    expect(own.status).toBe(200);
    expect((await own.json()).actor).toEqual({ subject: expect.stringMatching(/^apikey:[0-9a-f]{16}$/), tenant: "ward-7" });
    const foreign = await gw.fetch(`/v1/executions/${executionId}`, { headers: as(keys["otherWard"]!) });
    expect(foreign.status).toBe(404);
    expect((await foreign.json()).error.code).toBe("execution_not_found");
    // The admin key belongs to tenant "default": admin is every scope, not every tenant.
    expect((await gw.fetch(`/v1/executions/${executionId}`)).status).toBe(404);
  });

  it("gives each tenant its own schema registry", async () => {
    const schema = { type: "object", properties: { id: { type: "string", maxLength: 8 } }, required: ["id"] };
    expect((await gw.post("/v1/schemas", { name: "ticket", schema }, as(keys["wardInfer"]!))).status).toBe(201);

    const foreign = as(keys["otherWard"]!);
    expect((await gw.fetch("/v1/schemas/ticket", { headers: foreign })).status).toBe(404);
    expect((await (await gw.fetch("/v1/schemas", { headers: foreign })).json()).data.map((s: { name: string }) => s.name)).not.toContain("ticket");
    const task = await gw.post("/v1/tasks", { input: "x", schema: { name: "ticket" } }, foreign);
    expect(task.status).toBe(404);
    expect((await task.json()).error.code).toBe("schema_not_found");
    const theirs = await gw.post("/v1/schemas", { name: "ticket", schema: { type: "object", properties: { n: { type: "integer", minimum: 0, maximum: 9 } } } }, foreign);
    expect((await theirs.json()).version).toBe(1);
  });

  it("lets a JWT principal of a tenant see what an API key of the same tenant made", async () => {
    const token = await jwtFor({ scope: "infer" });
    const response = await gw.post("/v1/chat/completions", chat, as(token));
    expect(response.status).toBe(200);
    const executionId = response.headers.get("x-atomic-execution-id")!;
    const stored = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: as(keys["wardInfer"]!) })).json();
    expect(stored.actor).toEqual({ subject: "dr.house", tenant: "ward-7" });
    expect((await gw.fetch(`/v1/executions/${executionId}`, { headers: as(keys["otherWard"]!) })).status).toBe(404);
  });
});

describe("the record of who asked", () => {
  it("audits each refusal and names the caller in every request event, and no log line holds a credential", async () => {
    const refusedStatus = (await gw.post("/v1/chat/completions", chat, as(keys["embedOnly"]!))).status;
    expect(refusedStatus).toBe(403);
    await fetch(`${gw.url}/v1/models`);
    await fetch(`${gw.url}/v1/models`, { headers: { authorization: "Bearer atk_0123456789abcdef_" + "B".repeat(43) } });
    const served = await gw.post("/v1/chat/completions", chat, as(keys["wardInfer"]!));
    const executionId = served.headers.get("x-atomic-execution-id")!;
    await served.text();
    await gw.gateway.audit.sequencer.drain();

    const events = await auditEvents(gw.databaseUrl);
    const refusals = events.filter((event) => event.kind === "request.refused");
    expect(new Set(refusals.map((event) => event.outcome?.code))).toEqual(new Set(["authentication_required", "invalid_credentials", "insufficient_scope"]));
    const scopeRefusal = refusals.find((event) => event.outcome?.code === "insufficient_scope")!;
    expect(scopeRefusal.actor).toMatchObject({ tenant: "ward-7", subject: expect.stringMatching(/^apikey:/), tokenIdHash: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(scopeRefusal.request?.endpoint).toBe("POST /v1/chat/completions");

    const request = events.find((event) => event.id === executionId)!;
    expect(request.actor).toMatchObject({ tenant: "ward-7", subject: expect.stringMatching(/^apikey:/), sourceAddress: expect.stringContaining("127.0.0.1") });

    const logged = gw.logs.filter((line) => line["msg"] === "request refused");
    expect(logged.map((line) => line["code"])).toEqual(expect.arrayContaining(["authentication_required", "invalid_credentials", "insufficient_scope"]));
    const allLogs = JSON.stringify(gw.logs);
    for (const credential of [...Object.values(keys), gw.adminKey]) expect(allLogs).not.toContain(credential.slice(21));
  });
});
