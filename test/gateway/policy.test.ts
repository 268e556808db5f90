import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { executionCount } from "../support/executions.js";
import { policyDirWith } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * The shipped policy rules over a site's own entities: an open model cleared for internal data, a model cleared
 * for secret data and raw PII, and one only ward-7 may use.
 */
let gw: TestGateway;
let policyDir: string;
let ward7: string;
let ward8: string;
let ward9: string;

beforeAll(async () => {
  const dir = (policyDir = policyDirWith({
    defaults: { tenantClassification: "internal", model: { clearance: "internal", allowedTenants: "*", acceptsPii: false } },
    tenants: { "ward-8": { defaultClassification: "confidential" }, "ward-9": { minClassification: "confidential" } },
    models: {
      open: { clearance: "internal", allowedTenants: "*", acceptsPii: false },
      vault: { clearance: "secret", allowedTenants: "*", acceptsPii: true },
      "ward-only": { clearance: "confidential", allowedTenants: ["ward-7"], acceptsPii: false },
      embedder: { clearance: "internal", allowedTenants: "*", acceptsPii: false },
    },
  }));
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "open", options: { seed: 1 }, capabilities: ["chat", "completion"] },
      { id: "vault", options: { seed: 2 }, capabilities: ["chat", "completion"] },
      { id: "ward-only", options: { seed: 3 }, capabilities: ["chat", "completion"] },
      { id: "embedder", options: { seed: 4 }, capabilities: ["embedding"] },
    ]),
    policy: { dir },
  });
  ward7 = await gw.issueKey("ward-7", ["infer", "embed", "tasks"]);
  ward8 = await gw.issueKey("ward-8", ["infer", "embed", "tasks"]);
  ward9 = await gw.issueKey("ward-9", ["infer", "embed", "tasks"]);
});
afterAll(async () => gw?.close());

const headers = (key: string, classification?: string) => ({ authorization: `Bearer ${key}`, ...(classification ? { "x-atomic-data-classification": classification } : {}) });
const chat = (key: string, model: string, content = "hello", classification?: string) =>
  gw.post("/v1/chat/completions", { model, messages: [{ role: "user", content }], max_tokens: 2 }, headers(key, classification));

describe("the data-isolation policy decides every model choice", () => {
  it("lets auto bid only among models cleared for the data's classification", async () => {
    for (let i = 0; i < 4; i++) {
      const response = await chat(ward7, "auto", `secret note ${i}`, "secret");
      expect(response.status).toBe(200);
      expect((await response.json()).model).toBe("vault");
    }
    const decision = (await (await gw.fetch(`/v1/executions/${(await (await chat(ward7, "auto", "x", "secret")).json()).id.replace("chatcmpl-", "")}`, { headers: headers(ward7) })).json()).decision;
    expect(decision.microtasks[0].bids.map((bid: { model: string }) => bid.model)).toEqual(["vault"]);
  });

  it("refuses a named model above its clearance, or not open to the tenant, with 403 policy_denied", async () => {
    const tooSecret = await chat(ward7, "open", "hello", "secret");
    expect(tooSecret.status).toBe(403);
    const body = await tooSecret.json();
    expect(body.error).toMatchObject({ type: "permission_error", code: "policy_denied" });
    expect(body.error.message).toContain("classified secret");
    expect(body.error.details.reasons).toContain("clearance");

    expect((await chat(ward7, "ward-only", "hello", "confidential")).status).toBe(200);
    const otherTenant = await chat(ward8, "ward-only", "hello", "confidential");
    expect(otherTenant.status).toBe(403);
    expect((await otherTenant.json()).error.code).toBe("policy_denied");
  });

  it("handles a response that continues another at least at the classification of the one it continues", async () => {
    const first = await gw.post("/v1/responses", { model: "vault", input: "the secret note", max_output_tokens: 2 }, headers(ward7, "secret"));
    expect(first.status).toBe(200);
    const { id } = await first.json();
    const executions = await executionCount(gw.databaseUrl);
    // Asked at ward-7's default (internal), it still carries a secret conversation: not for a model cleared for internal.
    const refused = await gw.post("/v1/responses", { model: "open", previous_response_id: id, input: "go on", max_output_tokens: 2 }, headers(ward7));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatchObject({ code: "policy_denied", message: expect.stringContaining("classified secret") });
    expect(await executionCount(gw.databaseUrl)).toBe(executions);
    const continued = await gw.post("/v1/responses", { model: "auto", previous_response_id: id, input: "go on", max_output_tokens: 2 }, headers(ward7, "internal"));
    expect(continued.status).toBe(200);
    const stored = await (await gw.fetch(`/v1/executions/${(await continued.json()).id.slice("resp_".length)}`, { headers: headers(ward7) })).json();
    expect(stored).toMatchObject({ model: "vault", parameters: { policy: { classification: "secret" } } });
  });

  it("applies a tenant's default classification when the caller names none, and refuses an unknown level", async () => {
    // ward-8 defaults to confidential: "open" (internal) may not take it, ward-only is not ward-8's.
    const refused = await chat(ward8, "open");
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toContain("classified confidential");
    expect((await chat(ward8, "auto")).status).toBe(200);
    const unknown = await chat(ward7, "open", "hello", "top-secret");
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.code).toBe("classification_invalid");
  });

  it("keeps raw PII from models not cleared for it: named, redacted before the model and the record see it", async () => {
    const withPii = "Contact jane.doe@hospital.example about card 4111 1111 1111 1111";
    const redacted = await chat(ward7, "open", withPii);
    expect(redacted.status).toBe(200);
    const executionId = redacted.headers.get("x-atomic-execution-id")!;
    const stored = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: headers(ward7) })).json();
    expect(JSON.stringify(stored.input)).not.toContain("jane.doe@hospital.example");
    expect(JSON.stringify(stored.input)).not.toContain("4111 1111 1111 1111");
    expect(stored.input.messages[0].content).toBe("Contact [EMAIL_1] about card [CARD_1]");
    expect(stored.parameters.policy).toMatchObject({ redacted: true, piiKinds: ["credit_card", "email"] });

    // Where redaction does not make it allowed (data above the model's clearance), the request is refused.
    const refused = await chat(ward7, "open", withPii, "secret");
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toMatch(/PII \(credit_card, email\)/);
  });

  it("sends raw PII as it is to a model cleared for it, which auto prefers over redacting", async () => {
    const routed = await chat(ward7, "auto", "Contact jane.doe@hospital.example");
    const body = await routed.json();
    expect(body.model).toBe("vault");
    const stored = await (await gw.fetch(`/v1/executions/${routed.headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json();
    // The model got the address; the stored record did not.
    expect(stored.parameters.policy).toMatchObject({ redacted: false, piiKinds: ["email"] });
    expect(stored.input.messages[0].content).toBe("Contact [EMAIL_1]");
  });

  it("checks embeddings too: as sent, redacted for a model not cleared for the PII, refused above its clearance", async () => {
    expect((await gw.post("/v1/embeddings", { model: "embedder", input: "x" }, headers(ward7))).status).toBe(200);

    const input = ["Refund IBAN DE89 3704 0044 0532 0130 00 for jane.doe@hospital.example", "and jane.doe@hospital.example again"];
    const redacted = await gw.post("/v1/embeddings", { model: "embedder", input }, headers(ward7));
    expect(redacted.status).toBe(200);
    const vectors = (await redacted.json()).data.map((d: { embedding: number[] }) => d.embedding);
    // What the model embedded is the placeholder text: the same vectors as for that text sent as it is.
    const placeholders = ["Refund IBAN [IBAN_1] for [EMAIL_1]", "and [EMAIL_1] again"];
    const direct = await (await gw.post("/v1/embeddings", { model: "embedder", input: placeholders }, headers(ward7))).json();
    expect(vectors).toEqual(direct.data.map((d: { embedding: number[] }) => d.embedding));
    const stored = await (await gw.fetch(`/v1/executions/${redacted.headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json();
    expect(stored.input).toEqual(placeholders);
    expect(stored.parameters.policy).toMatchObject({ redacted: true, piiKinds: ["email", "iban"] });

    const refused = await gw.post("/v1/embeddings", { model: "embedder", input: "x" }, headers(ward7, "secret"));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("policy_denied");
    const refusedWithPii = await gw.post("/v1/embeddings", { model: "embedder", input }, headers(ward7, "secret"));
    expect(refusedWithPii.status).toBe(403);
  });

  it("passes the declared purpose to the policy: training data stays at or below internal and never carries raw PII", async () => {
    const purpose = (value: string) => ({ "x-atomic-purpose": value });
    // Without a purpose, secret data reaches the secret-cleared model; declared as training data it does not.
    expect((await gw.post("/v1/chat/completions", { model: "vault", messages: [{ role: "user", content: "hello" }], max_tokens: 2 }, headers(ward7, "secret"))).status).toBe(200);
    const refused = await gw.post("/v1/chat/completions", { model: "vault", messages: [{ role: "user", content: "hello" }], max_tokens: 2 },
      { ...headers(ward7, "secret"), ...purpose("Training") });
    expect(refused.status).toBe(403);
    const refusal = (await refused.json()).error;
    expect(refusal.details.reasons).toEqual(["training-only-up-to-internal"]);
    expect(refusal.message).toContain("for purpose training");

    // Raw PII for training is redacted even for the PII-cleared model, and auto finds no model that may take it raw.
    for (const model of ["vault", "auto"]) {
      const response = await gw.post("/v1/chat/completions", { model, messages: [{ role: "user", content: "Label jane.doe@hospital.example" }], max_tokens: 2 },
        { ...headers(ward7), ...purpose("training") });
      expect(response.status).toBe(200);
      const stored = await (await gw.fetch(`/v1/executions/${response.headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json();
      expect(stored.parameters.policy).toMatchObject({ purpose: "training", redacted: true, piiKinds: ["email"] });
    }
    const embedded = await gw.post("/v1/embeddings", { model: "embedder", input: "x" }, { ...headers(ward7, "confidential"), ...purpose("training") });
    expect(embedded.status).toBe(403);

    // Another purpose is recorded and decides nothing here; none is recorded as "".
    const support = await gw.post("/v1/chat/completions", { model: "vault", messages: [{ role: "user", content: "hello" }], max_tokens: 2 }, { ...headers(ward7, "secret"), ...purpose("support") });
    expect(support.status).toBe(200);
    const supportId = support.headers.get("x-atomic-execution-id")!;
    expect((await (await gw.fetch(`/v1/executions/${supportId}`, { headers: headers(ward7) })).json()).parameters.policy.purpose).toBe("support");
    const none = await chat(ward7, "open");
    expect((await (await gw.fetch(`/v1/executions/${none.headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json()).parameters.policy.purpose).toBe("");
    await gw.gateway.audit.sequencer.drain();
    expect((await auditEvents(gw.databaseUrl)).find((event) => event.id === supportId)?.parameters).toMatchObject({ purpose: "support" });
  });

  it("never lets a caller's header go below its tenant's floor: a lower level is raised to it", async () => {
    // ward-9's floor is confidential: declared public, its data still never reaches the internal-cleared model.
    const lowered = await chat(ward9, "open", "hello", "public");
    expect(lowered.status).toBe(403);
    expect((await lowered.json()).error.message).toContain("classified confidential");
    const raised = await chat(ward9, "vault", "hello", "public");
    expect(raised.status).toBe(200);
    const stored = await (await gw.fetch(`/v1/executions/${raised.headers.get("x-atomic-execution-id")}`, { headers: headers(ward9) })).json();
    expect(stored.parameters.policy.classification).toBe("confidential");
    // A tenant's default alone is no floor: ward-8's caller may still label its data public.
    expect((await chat(ward8, "open", "hello", "public")).status).toBe(200);
  });

  it("refuses a purpose that is not a short name, or that is itself PII, with 400 purpose_invalid", async () => {
    for (const value of ["model training", "x".repeat(65), "9training", "tel-2125550123", "café", "p4145780625911180", "tel.442079460958"]) {
      const response = await gw.post("/v1/chat/completions", { model: "open", messages: [{ role: "user", content: "hello" }], max_tokens: 2 },
        { ...headers(ward7), "x-atomic-purpose": value });
      expect(response.status, value).toBe(400);
      expect((await response.json()).error).toMatchObject({ code: "purpose_invalid", param: "x-atomic-purpose" });
    }
  });

  it("records the policy set that allowed each execution, and audits each denial", async () => {
    const response = await chat(ward7, "open", "hello", "public");
    const executionId = response.headers.get("x-atomic-execution-id")!;
    const stored = await (await gw.fetch(`/v1/executions/${executionId}`, { headers: headers(ward7) })).json();
    expect(stored.parameters.policy).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), decision: "allow", classification: "public", piiKinds: [] });

    await gw.gateway.audit.sequencer.drain();
    const events = await auditEvents(gw.databaseUrl);
    const executed = events.find((event) => event.id === executionId)!;
    expect(executed.policy).toEqual({ hash: stored.parameters.policy.hash, decision: "allow" });
    expect(executed.parameters).toMatchObject({ classification: "public" });
    const denials = events.filter((event) => event.kind === "request.refused" && event.outcome?.code === "policy_denied");
    expect(denials.length).toBeGreaterThanOrEqual(3);
    // The audit log names the PII kinds, never the values.
    expect(JSON.stringify(events)).not.toContain("jane.doe@hospital.example");
    expect(JSON.stringify(events)).not.toContain("4111 1111 1111 1111");
  });
});

describe("PII in what steers a model: response schemas and stop sequences", () => {
  const EMAIL = "jane.doe@hospital.example";
  const PHONE = "+44 20 7946 0958";
  // One allowed value: the grammar compiled from this schema lets a model write nothing else, so the output shows
  // what the grammar held.
  const contactSchema = { type: "object", properties: { contact: { enum: [EMAIL] } }, required: ["contact"] };
  const chatWithSchema = (model: string, classification?: string) => gw.post("/v1/chat/completions", {
    model,
    messages: [{ role: "user", content: "Who is the contact?" }],
    stop: [PHONE],
    response_format: { type: "json_schema", json_schema: { name: "contact", schema: contactSchema } },
  }, headers(ward7, classification));
  const stored = async (response: Response) =>
    (await gw.fetch(`/v1/executions/${response.headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json();

  it("steers a model not cleared for PII to the placeholder, not the value, and names the kinds in the policy record", async () => {
    const response = await chatWithSchema("open");
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(JSON.parse(body.choices[0].message.content)).toEqual({ contact: "[EMAIL_1]" });
    const execution = await stored(response);
    expect(execution.parameters.policy).toMatchObject({ redacted: true, piiKinds: ["email", "phone"] });
    expect(execution.parameters.stop).toEqual(["[PHONE_1]"]);
    expect(JSON.stringify(execution)).not.toContain(EMAIL);
  });

  it("sends a schema's PII as it is to a model cleared for it, and refuses it above a model's clearance, naming the kinds", async () => {
    const raw = await chatWithSchema("vault");
    expect(raw.status).toBe(200);
    expect(JSON.parse((await raw.json()).choices[0].message.content)).toEqual({ contact: EMAIL });
    const execution = await stored(raw);
    expect(execution.parameters.policy).toMatchObject({ redacted: false, piiKinds: ["email", "phone"] });
    // The model wrote the address; the stored record did not keep it.
    expect(execution.output).toEqual({ contact: "[EMAIL_1]" });

    const refused = await chatWithSchema("open", "secret");
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toMatch(/with PII \(email, phone\)/);
  });

  it("redacts an inline or registered task schema in the grammar as in the prompt", async () => {
    const iban = "DE89 3704 0044 0532 0130 00";
    const inline = { type: "object", description: "Card on file: 4111 1111 1111 1111", properties: { account: { enum: [iban] } }, required: ["account"] };
    const task = await gw.post("/v1/tasks", { model: "open", input: "Which account?", schema: { inline } }, headers(ward7));
    expect(task.status).toBe(200);
    expect((await task.json()).result).toEqual({ account: "[IBAN_1]" });
    expect((await stored(task)).parameters.policy).toMatchObject({ redacted: true, piiKinds: ["credit_card", "iban"] });

    expect((await gw.post("/v1/schemas", { name: "contact", schema: contactSchema }, headers(ward7))).status).toBe(201);
    const registered = await gw.post("/v1/tasks", { model: "open", input: "Who is the contact?", schema: { name: "contact" } }, headers(ward7));
    expect(registered.status).toBe(200);
    expect((await registered.json()).result).toEqual({ contact: "[EMAIL_1]" });
    expect((await stored(registered)).parameters.policy).toMatchObject({ redacted: true, piiKinds: ["email"] });
  });
});

describe("reloading the policy set on a running gateway", () => {
  it("refuses a set that does not validate, keeping the active one, and applies one that does; both audited", async () => {
    const active = (await (await gw.fetch(`/v1/executions/${(await chat(ward7, "open", "x")).headers.get("x-atomic-execution-id")}`, { headers: headers(ward7) })).json()).parameters.policy.hash;
    expect((await gw.post("/v1/admin/policy/reload", {}, headers(ward7))).status).toBe(403);

    const policyFile = join(policyDir, "default.cedar");
    const original = readFileSync(policyFile, "utf8");
    writeFileSync(policyFile, `${original}\npermit (principal, action, resource) when { resource.noSuchAttribute };\n`);
    const refused = await gw.post("/v1/admin/policy/reload", {});
    expect(refused.status).toBe(422);
    const refusal = await refused.json();
    expect(refusal.error.code).toBe("policy_set_invalid");
    expect(refusal.error.details.problems.length).toBeGreaterThan(0);
    expect((await chat(ward7, "open", "still served")).status).toBe(200);

    // A valid change: the open model is closed to everyone.
    writeFileSync(policyFile, `${original}\n@id("close-open-model")\nforbid (principal, action, resource == Atomic::Model::"open");\n`);
    const applied = await (await gw.post("/v1/admin/policy/reload", {})).json();
    expect(applied).toMatchObject({ object: "policy.reload", changed: true, previous_hash: active });
    const denied = await chat(ward7, "open", "x");
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.details.reasons).toContain("close-open-model");

    await gw.gateway.audit.sequencer.drain();
    const events = await auditEvents(gw.databaseUrl);
    const reloads = events.filter((event) => event.kind === "policy.reloaded").map((event) => event.outcome?.status);
    expect(reloads).toEqual(["refused", "succeeded"]);
  });
});
