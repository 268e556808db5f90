import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

type Json = Record<string, any>;

let gw: TestGateway;
let doc: Json;
let validators: Validators;

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-openapi");
  // Orchestration on and metrics on the gateway's listener: every route the gateway can serve is registered.
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]), temporal: { address, namespace, hostId: "gateway-openapi-test" } });
  const response = await fetch(`${gw.url}/openapi.json`);
  expect(response.status).toBe(200);
  doc = await response.json();
  validators = new Validators(doc);
});
afterAll(async () => gw?.close());

/**
 * Schemas of the document compiled by an independent validator, against the document itself, so that every
 * `$ref` resolves as a client's would. Strict: a keyword that is not JSON Schema 2020-12 is an error. Formats are
 * not checked (zod writes a pattern beside each format it emits, and that is checked).
 */
class Validators {
  private readonly ajv = new Ajv2020.default({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(document: Json) {
    // The document's own keys are not JSON Schema: named, so that strict mode lets them be.
    this.ajv.addVocabulary(["openapi", "info", "tags", "paths", "components", "x-atomic-event-data"]);
    this.ajv.addSchema({ ...document, $id: "openapi.json" });
  }

  /** The validator of the schema at a JSON pointer into the document. */
  at(pointer: string): ValidateFunction {
    let validate = this.cache.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `openapi.json#${pointer}` });
      this.cache.set(pointer, validate);
    }
    return validate;
  }
}

const escapePointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");
const operationPointer = (method: string, path: string) => `/paths/${escapePointer(path)}/${method.toLowerCase()}`;

function operationOf(method: string, path: string): Json {
  const operation = doc["paths"][path]?.[method.toLowerCase()];
  if (operation === undefined) throw new Error(`${method} ${path} is not in the document`);
  return operation;
}

function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const valid = validate(value);
  expect(valid, `${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}\n${JSON.stringify(value).slice(0, 2000)}`).toBe(true);
}

/** The documented response for a status: the operation's own, or the shared one it names. */
function responsePointer(method: string, path: string, status: number): string {
  const pointer = `${operationPointer(method, path)}/responses/${status}`;
  const response = operationOf(method, path)["responses"][String(status)];
  expect(response, `${method} ${path} does not document ${status}`).toBeDefined();
  return response.$ref ? (response.$ref as string).slice(1) : pointer;
}

const resolvePointer = (pointer: string): Json =>
  pointer.split("/").slice(1).reduce((node: Json, key) => node[key.replace(/~1/g, "/").replace(/~0/g, "~")], doc);

/**
 * Checks an answer against the document: its status is documented, its media type too, and its body (each event's
 * data, for a stream) is valid against the documented schema. Returns the body as read.
 */
async function expectDocumented(method: string, path: string, response: Response): Promise<any> {
  const pointer = responsePointer(method, path, response.status);
  const content = resolvePointer(pointer)["content"] as Json;
  const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  expect(Object.keys(content), `${method} ${path} ${response.status} answered ${mediaType}`).toContain(mediaType);
  const media = `${pointer}/content/${escapePointer(mediaType)}`;
  if (mediaType === "application/json") {
    const body = await response.json();
    expectValid(validators.at(`${media}/schema`), body, `${method} ${path} ${response.status}`);
    return body;
  }
  const text = await response.text();
  if (mediaType === "text/event-stream") {
    const data = [...text.matchAll(/^data: (.*)$/gm)].map((match) => match[1]!).filter((line) => line !== "[DONE]");
    expect(data.length).toBeGreaterThan(0);
    for (const line of data) expectValid(validators.at(`${media}/x-atomic-event-data`), JSON.parse(line), `${method} ${path} event`);
  }
  return text;
}

/** A request whose body is first checked against the documented request schema: valid for the document too. */
async function send(method: string, path: string, url: string, body?: unknown): Promise<Response> {
  if (body !== undefined) {
    expectValid(validators.at(`${operationPointer(method, path)}/requestBody/content/application~1json/schema`), body, `${method} ${path} request`);
    return gw.fetch(url, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  }
  return gw.fetch(url, { method });
}

/** Documented answer of a documented request, in one step. */
const call = async (method: string, path: string, url: string, body?: unknown) => expectDocumented(method, path, await send(method, path, url, body));

const registeredRoutes = () =>
  [...new Set(gw.gateway.app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`))];

const documentedRoutes = () =>
  Object.entries(doc["paths"] as Json).flatMap(([path, item]) => Object.keys(item as Json).map((method) => `${method.toUpperCase()} ${path}`));

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, served without credentials, and every schema in it compiles as JSON Schema 2020-12", () => {
    expect(doc["openapi"]).toMatch(/^3\.1\./);
    expect(doc["info"]).toMatchObject({ title: "Atomic", version: expect.any(String) });
    for (const name of Object.keys(doc["components"]["schemas"])) validators.at(`/components/schemas/${name}`);
    const ids = documentedRoutes().map((route) => {
      const [method, path] = route.split(" ");
      return operationOf(method!, path!)["operationId"];
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("describes every route the gateway registered, with its method and path, and no other", () => {
    const registered = registeredRoutes();
    const documented = documentedRoutes();
    expect(registered.filter((route) => !documented.includes(route)), "registered but not in the document (src/gateway/openapi/operations.ts)").toEqual([]);
    expect(documented.filter((route) => !registered.includes(route)), "in the document but not registered").toEqual([]);
  });

  it("resolves every $ref", () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === "$ref" && typeof value === "string") refs.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/(schemas|responses|headers)\/[\w-]+$/);
      expect(resolvePointer(ref.slice(1)), ref).toBeDefined();
    }
  });

  it("names the scopes each route checks: a caller without them is refused, one without credentials too", async () => {
    const weakest = await gw.issueKey("default", ["metrics:read"]);
    const fill = (path: string) => path.replace(/\{(\w+)\}/g, "0190c1a2-0000-7000-8000-000000000000");
    for (const route of documentedRoutes()) {
      const [method, path] = route.split(" ") as [string, string];
      const security = operationOf(method, path)["security"] as Array<Record<string, string[]>>;
      const anonymous = await fetch(`${gw.url}${fill(path)}`, { method });
      await anonymous.body?.cancel();
      if (security.length === 0) {
        expect(anonymous.status, route).not.toBe(401);
        continue;
      }
      expect(anonymous.status, route).toBe(401);
      // Any credentials (GET /v1/models), or the weakest key's own scope (GET /metrics): nothing to refuse.
      const scopes = security.flatMap((requirement) => requirement["bearer"]!);
      if (scopes.length === 0 || scopes.includes("metrics:read")) continue;
      const refused = await gw.fetch(fill(path), { method, headers: { authorization: `Bearer ${weakest}` } });
      expect(refused.status, route).toBe(403);
      expect((await expectDocumented(method, path, refused)).error.code).toBe("insufficient_scope");
    }
    expect(operationOf("GET", "/v1/executions/{id}")["security"]).toEqual([{ bearer: ["infer"] }, { bearer: ["embed"] }, { bearer: ["tasks"] }]);
    expect(operationOf("GET", "/healthz")["security"]).toEqual([]);
  });
});

describe("answers match their documented schemas", () => {
  let executionId: string;

  it("models, chat and responses (whole and streamed), completions, embeddings", async () => {
    const models = await call("GET", "/v1/models", "/v1/models");
    expect(models.data.map((m: Json) => m.id)).toEqual(["tiny", "auto"]);
    await call("GET", "/v1/models/{id}", "/v1/models/tiny");
    await call("GET", "/v1/models/{id}", "/v1/models/auto");
    expect((await call("GET", "/v1/models/{id}", "/v1/models/nope")).error.code).toBe("model_not_found");

    const chat = await send("POST", "/v1/chat/completions", "/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 5, seed: 1, n: 2 });
    executionId = chat.headers.get("x-atomic-execution-id")!.split(", ")[0]!;
    expect((await expectDocumented("POST", "/v1/chat/completions", chat)).choices).toHaveLength(2);
    await call("POST", "/v1/chat/completions", "/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    await call("POST", "/v1/chat/completions", "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"] } } }],
      tool_choice: "required",
      max_tokens: 64,
    });

    const getWeather = { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"] } };
    const response = await call("POST", "/v1/responses", "/v1/responses", { model: "tiny", instructions: "Be brief.", input: "Hello", max_output_tokens: 4, metadata: { ticket: "T-1" } });
    expect((await call("GET", "/v1/executions/{id}", `/v1/executions/${response.id.slice("resp_".length)}`)).endpoint).toBe("responses");
    await call("POST", "/v1/responses", "/v1/responses", { model: "tiny", input: [{ role: "user", content: "Hi" }], max_output_tokens: 4, stream: true });
    for (const stream of [false, true]) {
      await call("POST", "/v1/responses", "/v1/responses", { model: "tiny", input: "Weather in Paris?", tools: [getWeather], tool_choice: "required", max_output_tokens: 64, stream });
    }

    await call("POST", "/v1/completions", "/v1/completions", { model: "tiny", prompt: "Once", max_tokens: 4 });
    await call("POST", "/v1/completions", "/v1/completions", { model: "tiny", prompt: "Once", max_tokens: 4, stream: true });
    for (const stream of [false, true]) {
      await call("POST", "/v1/chat/completions", "/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, logprobs: true, top_logprobs: 2, stream });
      await call("POST", "/v1/completions", "/v1/completions", { model: "tiny", prompt: "Once", max_tokens: 4, logprobs: 2, stream });
    }
    await call("POST", "/v1/embeddings", "/v1/embeddings", { model: "tiny", input: ["a", "b"] });
    await call("POST", "/v1/embeddings", "/v1/embeddings", { model: "tiny", input: "a", encoding_format: "base64" });
  });

  it("executions, feedback, schemas and synchronous tasks", async () => {
    expect((await call("GET", "/v1/executions/{id}", `/v1/executions/${executionId}`)).id).toBe(executionId);
    await call("GET", "/v1/executions/{id}", "/v1/executions/0190c1a2-0000-7000-8000-000000000000");
    await call("POST", "/v1/feedback", "/v1/feedback", { execution_id: executionId, score: 0.5, comment: "fine" });

    const ticket = { type: "object", properties: { title: { type: "string", maxLength: 12 } }, required: ["title"], additionalProperties: false };
    expect((await send("POST", "/v1/schemas", "/v1/schemas", { name: "ticket", schema: ticket, description: "a ticket" })).status).toBe(201);
    await call("POST", "/v1/schemas", "/v1/schemas", { name: "ticket", version: 1, schema: { type: "object" } });
    await call("GET", "/v1/schemas", "/v1/schemas");
    await call("GET", "/v1/schemas/{name}", "/v1/schemas/ticket");
    await call("GET", "/v1/schemas/{name}/versions/{version}", "/v1/schemas/ticket/versions/1");
    await call("GET", "/v1/schemas/{name}/versions/{version}", "/v1/schemas/ticket/versions/9");

    const task = await call("POST", "/v1/tasks", "/v1/tasks", { input: "Open a ticket", schema: { name: "ticket" }, max_tokens: 40, seed: 1 });
    expect(task.schema).toEqual({ name: "ticket", version: 1 });
    await call("POST", "/v1/tasks", "/v1/tasks", { input: "say something", max_tokens: 4 });
    await call("GET", "/v1/executions/{id}", `/v1/executions/${task.id}`);
    expect((await call("GET", "/v1/decisions/{id}", `/v1/decisions/${task.id}`)).executionId).toBe(task.id);
    expect((await call("GET", "/v1/decisions/{id}", "/v1/decisions/0190c1a2-0000-7000-8000-000000000000")).error.code).toBe("decision_not_found");
  });

  it("asynchronous tasks: accepted, followed, streamed, and refused a cancel once ended", async () => {
    const accepted = await call("POST", "/v1/tasks", "/v1/tasks", { input: "Name a colour.", mode: "async", max_tokens: 8 });
    for (;;) {
      const task = await call("GET", "/v1/tasks/{id}", `/v1/tasks/${accepted.id}`);
      if (task.status !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await call("GET", "/v1/tasks/{id}/events", `/v1/tasks/${accepted.id}/events`);
    expect((await call("POST", "/v1/tasks/{id}/cancel", `/v1/tasks/${accepted.id}/cancel`)).error.code).toBe("task_not_running");
    await call("GET", "/v1/tasks/{id}", "/v1/tasks/0190c1a2-0000-7000-8000-000000000000");
  });

  it("the audit log: checkpoint, receipt, consistency, export", async () => {
    await gw.gateway.audit.sequencer.drain();
    await call("GET", "/v1/audit/checkpoint", "/v1/audit/checkpoint");
    let receipt: Response;
    while ((receipt = await gw.fetch(`/v1/audit/receipt/${executionId}`)).status !== 200) {
      expect((await expectDocumented("GET", "/v1/audit/receipt/{eventId}", receipt)).error.code).toBe("audit_event_pending");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const body = await expectDocumented("GET", "/v1/audit/receipt/{eventId}", receipt);
    await call("GET", "/v1/audit/consistency", `/v1/audit/consistency?from=${body.tree_size}&to=${body.tree_size}`);
    await call("GET", "/v1/audit/receipt/{eventId}", "/v1/audit/receipt/someone@example.org");
    expect((await call("GET", "/v1/executions/{id}/receipt", `/v1/executions/${executionId}/receipt?tree_size=${body.tree_size}`))).toEqual(body);
    expect((await call("GET", "/v1/executions/{id}/receipt", "/v1/executions/someone@example.org/receipt")).error.code).toBe("invalid_parameter");
    await call("GET", "/v1/audit/export", "/v1/audit/export");
  });

  it("operators' routes", async () => {
    await call("GET", "/v1/admin/bidding", "/v1/admin/bidding");
    expect((await call("GET", "/v1/admin/bidding/history", "/v1/admin/bidding/history?buckets=4")).buckets).toHaveLength(4);
    expect((await call("GET", "/v1/admin/bidding/history", "/v1/admin/bidding/history?buckets=0")).error.code).toBe("invalid_parameter");
    await call("POST", "/v1/admin/bidding/freeze", "/v1/admin/bidding/freeze");
    await call("POST", "/v1/admin/bidding/unfreeze", "/v1/admin/bidding/unfreeze");
    await call("POST", "/v1/admin/bidding/train", "/v1/admin/bidding/train?from=executions");
    await call("GET", "/v1/admin/adaptation", "/v1/admin/adaptation");
    await call("POST", "/v1/admin/adaptation/freeze", "/v1/admin/adaptation/freeze");
    await call("POST", "/v1/admin/adaptation/unfreeze", "/v1/admin/adaptation/unfreeze");
    await call("GET", "/v1/admin/adaptation/fits/{id}", "/v1/admin/adaptation/fits/0190c1a2-0000-7000-8000-000000000000");
    await call("POST", "/v1/admin/policy/reload", "/v1/admin/policy/reload");
    expect(await call("POST", "/v1/admin/models/reload", "/v1/admin/models/reload")).toMatchObject({ added: [], replaced: [], removed: [], refused: [] });
    expect((await call("POST", "/v1/admin/models/{id}/unload", "/v1/admin/models/nope/unload")).error.code).toBe("model_not_found");
    expect((await call("POST", "/v1/admin/models/{id}/load", "/v1/admin/models/tiny/load")).error.code).toBe("model_already_hosted");
    await call("POST", "/v1/admin/erasure", "/v1/admin/erasure", { execution_id: executionId, dry_run: true });
    await call("GET", "/v1/admin/overview", "/v1/admin/overview");
    expect((await call("GET", "/v1/admin/executions", "/v1/admin/executions?limit=2")).next_cursor).toEqual(expect.any(String));
    await call("GET", "/v1/admin/executions/{id}", `/v1/admin/executions/${executionId}`);
    await call("GET", "/v1/admin/executions/{id}", "/v1/admin/executions/0190c1a2-0000-7000-8000-000000000000");
    await call("GET", "/v1/admin/audit", "/v1/admin/audit");
    await call("GET", "/v1/admin/audit/keys", "/v1/admin/audit/keys");

    const settings = "/v1/admin/tenants/{tenant}/settings";
    await call("GET", settings, "/v1/admin/tenants/default/settings");
    const changed = await call("PUT", settings, "/v1/admin/tenants/default/settings", { limits: { burst: 30, tokensPerDay: null }, bidding: { criteria: { weights: { quality: 1 }, constraints: { maxCost: null } } } });
    expect(changed.stored.limits).toEqual({ burst: 30, tokensPerDay: null });
    await call("DELETE", settings, "/v1/admin/tenants/default/settings");
    expect((await call("DELETE", settings, "/v1/admin/tenants/default/settings")).error.code).toBe("tenant_settings_not_found");
    expect((await call("GET", settings, "/v1/admin/tenants/ward-8/settings")).error.code).toBe("tenant_not_found");
    const refused = { limits: { burst: 0 } };
    expect(validators.at(`${operationPointer("PUT", settings)}/requestBody/content/application~1json/schema`)(refused)).toBe(false);
    expect((await expectDocumented("PUT", settings, await gw.fetch("/v1/admin/tenants/default/settings", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(refused) }))).error.code).toBe("invalid_parameter");
  });

  it("the service's own routes, and errors", async () => {
    await call("GET", "/healthz", "/healthz");
    await call("GET", "/readyz", "/readyz");
    await call("GET", "/metrics", "/metrics");
    await call("GET", "/openapi.json", "/openapi.json");
    await call("GET", "/ui", "/ui");
    const unauthenticated = await fetch(`${gw.url}/v1/models`);
    expect((await expectDocumented("GET", "/v1/models", unauthenticated)).error.code).toBe("authentication_required");
    const unknown = await gw.post("/v1/embeddings", { model: "tiny", input: "a", dimensions: 8 });
    expect((await expectDocumented("POST", "/v1/embeddings", unknown)).error.code).toBe("unknown_parameter");
  });
});

describe("request schemas in the document refuse what the routes refuse", () => {
  const refused: Array<[string, unknown]> = [
    ["/v1/chat/completions", { model: "tiny", messages: [] }],
    ["/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }], logprobs: true, top_logprobs: 21 }],
    ["/v1/completions", { model: "tiny", prompt: "x", logprobs: 6 }],
    ["/v1/chat/completions", { model: "tiny", messages: [{ role: "wizard", content: "x" }] }],
    ["/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }], n: 99 }],
    ["/v1/responses", { model: "tiny", input: [] }],
    ["/v1/responses", { model: "tiny", input: "x", reasoning: { effort: "low" } }],
    ["/v1/responses", { model: "tiny", input: [{ type: "item_reference", id: "msg_1" }] }],
    ["/v1/responses", { model: "tiny", input: "x", tools: [{ type: "web_search" }] }],
    ["/v1/completions", { model: "tiny", prompt: ["a", "b"] }],
    ["/v1/embeddings", { model: "tiny", input: [] }],
    ["/v1/tasks", { input: "" }],
    ["/v1/tasks", { input: "x", mode: "later" }],
    ["/v1/feedback", { execution_id: "x", score: 2 }],
    ["/v1/schemas", { name: "-bad", schema: {} }],
    ["/v1/admin/erasure", { dry_run: "yes" }],
  ];

  it.each(refused)("POST %s %j", async (path, body) => {
    const validate = validators.at(`${operationPointer("POST", path)}/requestBody/content/application~1json/schema`);
    expect(validate(body)).toBe(false);
    const response = await gw.post(path, body);
    expect(response.status).toBe(400);
    await expectDocumented("POST", path, response);
  });

  it("path and query parameters", async () => {
    const receipt = operationOf("GET", "/v1/audit/receipt/{eventId}")["parameters"] as Json[];
    const eventId = receipt.findIndex((p) => p.name === "eventId");
    const validate = validators.at(`${operationPointer("GET", "/v1/audit/receipt/{eventId}")}/parameters/${eventId}/schema`);
    expect(validate("someone@example.org")).toBe(false);
    expect(validate("0190c1a2-0000-7000-8000-000000000000")).toBe(true);
    const consistency = operationOf("GET", "/v1/audit/consistency")["parameters"] as Json[];
    expect(consistency.find((p) => p.name === "from")).toMatchObject({ in: "query", required: true });
    expect((await gw.fetch("/v1/audit/consistency")).status).toBe(400);
  });
});

describe("the reference page", () => {
  it("is served by the gateway, loads nothing from elsewhere, and runs only its own script and style", async () => {
    const response = await fetch(`${gw.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await response.text();
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    const sha = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
    expect(csp).toContain(`script-src ${sha(script)}`);
    expect(csp).toContain(`style-src ${sha(style)}`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it("renders every operation of the document, with the text escaped", async () => {
    const { renderReference } = (await import(pathToFileURL(`${process.cwd()}/src/gateway/openapi/reference/reference.js`).href)) as { renderReference(doc: unknown): { nav: string; main: string } };
    const page = renderReference(doc);
    for (const route of documentedRoutes()) {
      const [method, path] = route.split(" ") as [string, string];
      expect(page.main, route).toContain(`id="${operationOf(method, path)["operationId"]}"`);
      expect(page.nav).toContain(`href="#${operationOf(method, path)["operationId"]}"`);
    }
    const hostile = renderReference({ ...doc, info: { title: "<img src=x onerror=alert(1)>", version: "1" } });
    expect(hostile.main).not.toContain("<img");
    expect(hostile.main).toContain("&lt;img");
  });
});
