import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Property: whatever arrives — well-formed, almost well-formed, or garbage — the gateway answers below 500, with a
 * JSON error carrying a stable code when it refuses, and never a stack trace. In-process through app.request (no
 * sockets), against the real stores and real llama.cpp hosts; max_tokens is capped at 4 so that the bodies that
 * do pass validation generate a few tokens and the run stays short.
 */
/**
 * 10,300 requests at scale 1, fewer where a valid body means a chat generation (the costly part) and more where it
 * does not. ATOMIC_FUZZ_SCALE multiplies them all; the test command runs half. The seed is fixed, so a run is
 * repeatable and a deeper search is a larger scale: ATOMIC_FUZZ_SCALE=4 npx vitest run test/gateway/fuzz.test.ts.
 */
const SCALE = Number(process.env["ATOMIC_FUZZ_SCALE"] ?? 0.5);
const RUNS: Record<string, number> = {
  "/v1/chat/completions": 500,
  "/v1/responses": 300,
  "/v1/tasks": 500,
  "/v1/completions": 2000,
  "/v1/embeddings": 2500,
  "/v1/schemas": 2500,
  GET: 2000,
};
const runs = (route: string) => Math.max(10, Math.round(RUNS[route]! * SCALE));
const SEED = 20261126;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }, { id: "tiny-embed", capabilities: ["embedding"] }]),
    inference: { maxTokensLimit: 4, structuredAttempts: 1, maxQueue: 1000 },
  });
});
afterAll(async () => gw?.close());

const anyJson = fc.jsonValue({ maxDepth: 3 });
const smallText = fc.string({ maxLength: 40 });
const message = fc.record({ role: fc.constantFrom("system", "user", "assistant"), content: smallText });
const schema = fc.constantFrom(
  { type: "object", properties: { a: { type: "string", maxLength: 4 } }, required: ["a"] },
  { type: "object", properties: { n: { type: "integer", minimum: 0, maximum: 9 } } },
  { type: "object", properties: { tags: { type: "array", items: { enum: ["x", "y"] }, maxItems: 2 } } },
);
const sampling = {
  max_tokens: fc.integer({ min: 1, max: 4 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
};

const getTime = { type: "function", name: "get_time", parameters: { type: "object", properties: { zone: { enum: ["UTC", "CET"] } }, required: ["zone"] } };
/** A Responses input item that is not a plain message: a call and its output, or an output answering no call. */
const responseItem = fc.oneof(
  fc.constant({ type: "function_call", call_id: "call_1", name: "get_time", arguments: '{"zone":"UTC"}' }),
  fc.record({ type: fc.constant("function_call_output"), call_id: fc.constant("call_1"), output: smallText }),
);

/** Bodies the route accepts: every optional field present or not. */
const VALID: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "/v1/chat/completions": fc.record({
    model: fc.constantFrom("tiny", "default"),
    messages: fc.array(message, { minLength: 1, maxLength: 3 }),
    ...sampling,
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    stop: fc.array(smallText.filter((text) => text.length > 0), { maxLength: 2 }),
    stream: fc.boolean(),
    response_format: fc.oneof(fc.constant({ type: "text" }), schema.map((s) => ({ type: "json_schema", json_schema: { name: "fuzz", schema: s } }))),
  }, { requiredKeys: ["messages"] }),
  "/v1/responses": fc.record({
    model: fc.constantFrom("tiny", "default"),
    instructions: smallText,
    input: fc.oneof(smallText, fc.array(fc.oneof(message, responseItem), { minLength: 1, maxLength: 3 })),
    max_output_tokens: sampling.max_tokens,
    temperature: sampling.temperature,
    stream: fc.boolean(),
    text: fc.oneof(fc.constant({ format: { type: "text" } }), schema.map((s) => ({ format: { type: "json_schema", name: "fuzz", schema: s } }))),
    tools: fc.constant([getTime]),
    tool_choice: fc.constantFrom("auto", "none", "required"),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), smallText, { maxKeys: 3 }),
  }, { requiredKeys: ["input"] }),
  "/v1/completions": fc.record({ model: fc.constant("tiny"), prompt: smallText, ...sampling, stream: fc.boolean() }, { requiredKeys: ["prompt"] }),
  "/v1/embeddings": fc.record({ model: fc.constant("tiny-embed"), input: fc.oneof(smallText.filter((t) => t.length > 0), fc.array(smallText.filter((t) => t.length > 0), { minLength: 1, maxLength: 3 })), encoding_format: fc.constantFrom("float", "base64") }, { requiredKeys: ["input"] }),
  "/v1/tasks": fc.record({
    input: fc.oneof(smallText.filter((t) => t.length > 0), fc.dictionary(smallText, smallText, { maxKeys: 2 })),
    instructions: smallText.filter((t) => t.length > 0),
    schema: schema.map((inline) => ({ inline })),
    ...sampling,
  }, { requiredKeys: ["input"] }),
  "/v1/schemas": fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/), description: smallText, schema }, { requiredKeys: ["name", "schema"] }),
};

/** A valid body with up to two fields broken: replaced by any JSON value, removed, or joined by an unknown one. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  const mutation = fc.tuple(fc.constantFrom("replace", "remove", "add"), fc.nat(), anyJson, fc.string({ minLength: 1, maxLength: 12 }));
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([body, mutations]) => {
    const copy: Record<string, unknown> = { ...body };
    for (const [kind, pick, value, name] of mutations) {
      const keys = Object.keys(copy);
      const key = keys[pick % Math.max(1, keys.length)];
      if (kind === "add" || key === undefined) copy[name] = value;
      else if (kind === "remove") delete copy[key];
      else copy[key] = value;
    }
    return copy;
  });
}

const BODIES: Record<string, fc.Arbitrary<unknown>> = Object.fromEntries(
  // One body in eight is valid as generated: enough to exercise the whole path, few enough to keep the run short.
  Object.entries(VALID).map(([path, valid]) => [path, fc.oneof({ weight: 1, arbitrary: valid }, { weight: 7, arbitrary: mutated(valid) })]),
);

/** The raw bytes sent: the generated object, another JSON value, or text that is not JSON at all. */
const rawBody = (body: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: body.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: body.map((value) => JSON.stringify(value).slice(0, -1)) },
  );

async function expectOrderly(response: Response, label: string): Promise<void> {
  const text = await response.text();
  expect(response.status, `${label} → ${response.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(text, label).not.toMatch(/\n\s+at \S+ \(|node_modules|\.ts:\d+/);
  if (response.status >= 400) {
    const body = JSON.parse(text) as { error?: { code?: unknown; type?: unknown } };
    expect(typeof body.error?.code, `${label}: ${text.slice(0, 200)}`).toBe("string");
  }
}

describe("fuzzing every route in-process", () => {
  for (const [path, body] of Object.entries(BODIES)) {
    it(`POST ${path}: ${runs(path)} generated bodies, no 5xx, stable error codes`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(rawBody(body), fc.boolean(), async (raw, jsonContentType) => {
          const response = await gw.gateway.app.request(path, {
            method: "POST",
            headers: { authorization: `Bearer ${gw.adminKey}`, ...(jsonContentType ? { "content-type": "application/json" } : {}) },
            body: raw,
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await expectOrderly(response, `${path} ${raw.slice(0, 120)}`);
        }),
        { numRuns: runs(path), seed: SEED },
      );
      // The generator must reach past validation too, or the property would say little about the deeper code.
      const succeeded = [...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
      const refused = [...statuses].filter(([status]) => status >= 400).reduce((sum, [, count]) => sum + count, 0);
      expect(succeeded, JSON.stringify([...statuses])).toBeGreaterThanOrEqual(Math.max(1, runs(path) / 200));
      expect(refused, JSON.stringify([...statuses])).toBeGreaterThan(runs(path) / 10);
    }, 600_000);
  }

  it(`GET routes with generated path segments and query strings: ${runs("GET")} requests, no 5xx`, async () => {
    const segment = fc.oneof(fc.uuid(), fc.string({ maxLength: 30 }), fc.constantFrom("..", "%00", "'; DROP TABLE executions; --", "ticket"));
    const path = fc.oneof(
      segment.map((s) => `/v1/executions/${encodeURIComponent(s)}`),
      segment.map((s) => `/v1/schemas/${encodeURIComponent(s)}`),
      fc.tuple(segment, segment).map(([s, v]) => `/v1/schemas/${encodeURIComponent(s)}/versions/${encodeURIComponent(v)}`),
      segment.map((s) => `/v1/models/${encodeURIComponent(s)}`),
      segment.map((s) => `/v1/audit/receipt/${encodeURIComponent(s)}`),
      fc.tuple(segment, segment, segment).map(([f, t, p]) => `/v1/audit/export?from=${encodeURIComponent(f)}&to=${encodeURIComponent(t)}&previous_size=${encodeURIComponent(p)}`),
    );
    await fc.assert(
      fc.asyncProperty(path, async (target) => {
        const response = await gw.gateway.app.request(target, { headers: { authorization: `Bearer ${gw.adminKey}` } });
        // An export that validates streams a tar: drain it, it is not JSON.
        if (response.headers.get("content-type") === "application/x-tar") {
          expect(response.status).toBe(200);
          await response.arrayBuffer();
          return;
        }
        await expectOrderly(response, target);
      }),
      { numRuns: runs("GET"), seed: SEED },
    );
  }, 600_000);
});

describe("deeply nested JSON bodies", () => {
  /** `{"a":{"a":…}}` or `[[…]]`, `levels` deep, with `leaf` innermost. */
  const nested = (kind: "object" | "array", levels: number, leaf = "1") =>
    kind === "object" ? '{"a":'.repeat(levels) + leaf + "}".repeat(levels) : "[".repeat(levels) + leaf + "]".repeat(levels);
  /** Where each route would carry the nesting: in a field it accepts any JSON (task input), or at the top. */
  const carriers: Record<string, (deep: string) => string> = {
    "/v1/tasks": (deep) => `{"input":${deep},"max_tokens":2}`,
    "/v1/chat/completions": (deep) => `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${deep}}}}`,
    "/v1/responses": (deep) => `{"input":"hi","text":{"format":{"type":"json_schema","name":"deep","schema":${deep}}}}`,
    "/v1/completions": (deep) => `{"prompt":${deep}}`,
    "/v1/embeddings": (deep) => `{"input":${deep}}`,
    "/v1/schemas": (deep) => `{"name":"deep","schema":${deep}}`,
    "/v1/feedback": (deep) => `{"execution_id":"x","score":1,"comment":${deep}}`,
  };

  it("answers 400 json_too_deep for objects and arrays 5,000 and 100,000 levels deep on every route that reads JSON, never a 5xx", async () => {
    for (const [path, carry] of Object.entries(carriers)) {
      for (const kind of ["object", "array"] as const) {
        for (const levels of [5_000, 100_000]) {
          for (const body of [carry(nested(kind, levels)), nested(kind, levels)]) {
            const label = `${path} ${kind} ${levels}`;
            const response = await gw.gateway.app.request(path, { method: "POST", headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" }, body });
            await expectOrderly(response.clone(), label);
            expect(response.status, label).toBe(400);
            expect((await response.json()).error.code, label).toBe("json_too_deep");
          }
        }
      }
    }
  }, 120_000);

  it("still takes a body nested as deep as a schema may be", async () => {
    // A task input 100 levels deep is data like any other; MAX_SCHEMA_DEPTH (64) bounds schemas themselves.
    const response = await gw.post("/v1/tasks", { input: JSON.parse(nested("object", 100, '"ok"')), max_tokens: 2 });
    expect(response.status, await response.clone().text()).toBe(200);
  });
});

/**
 * PII written to slip past the detectors (full-width, split by invisible characters, percent-encoded) and PII in
 * every text that steers a model (schema enum/const/default/examples/description/title/pattern, property names,
 * stop sequences): still no 5xx, whatever the policy makes of it (sent, redacted or refused).
 */
describe("fuzzing with encoded PII and PII in schemas", () => {
  const PII = ["jane.doe@hospital.example", "4111 1111 1111 1111", "+44 20 7946 0958", "DE89 3704 0044 0532 0130 00", "943 476 5919"];
  const ENCODINGS: Record<string, (value: string) => string> = {
    plain: (value) => value,
    fullWidth: (value) => value.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
    zeroWidth: (value) => [...value].join("\u200b"),
    softHyphen: (value) => value.replace(/(.)(.)/g, "$1\u00ad$2"),
    percent: (value) => value.replace(/[@+ ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    percentTwice: (value) => value.replace(/@/g, "%2540"),
    byteOrderMark: (value) => `\ufeff${value.slice(0, 4)}\ufeff${value.slice(4)}`,
  };
  const encodedPii = fc.tuple(fc.constantFrom(...PII), fc.constantFrom(...Object.keys(ENCODINGS))).map(([value, how]) => ENCODINGS[how]!(value));
  const textWithPii = fc.tuple(smallText, encodedPii, smallText).map(([before, value, after]) => `${before} ${value} ${after}`);
  const asPattern = (value: string) => value.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  const schemaWithPii = fc.tuple(encodedPii, fc.nat(4)).map(([value, shape]) => [
    { type: "object", properties: { a: { enum: [value, "x"] } }, required: ["a"] },
    { type: "object", properties: { a: { const: value } }, required: ["a"] },
    { type: "object", properties: { [value]: { type: "string", maxLength: 4 } }, required: [value] },
    { type: "object", title: value, description: value, properties: { a: { type: "string", maxLength: 4, default: value, examples: [value] } } },
    { type: "object", properties: { a: { type: "string", maxLength: 40, pattern: `^${asPattern(value)}$` } }, required: ["a"] },
  ][shape]!);

  const BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    "/v1/chat/completions": fc.record({
      model: fc.constant("tiny"),
      messages: fc.array(fc.record({ role: fc.constantFrom("system", "user"), content: fc.oneof(smallText, textWithPii) }), { minLength: 1, maxLength: 2 }),
      stop: fc.array(fc.oneof(encodedPii, smallText.filter((text) => text.length > 0)), { maxLength: 2 }),
      response_format: schemaWithPii.map((schema) => ({ type: "json_schema", json_schema: { name: "fuzz", schema } })),
      stream: fc.boolean(),
      ...sampling,
    }, { requiredKeys: ["messages"] }),
    "/v1/responses": fc.record({
      model: fc.constant("tiny"),
      instructions: textWithPii,
      input: fc.array(fc.record({ role: fc.constantFrom("developer", "user"), content: fc.oneof(smallText, textWithPii) }), { minLength: 1, maxLength: 2 }),
      text: schemaWithPii.map((schema) => ({ format: { type: "json_schema", name: "fuzz", schema } })),
      metadata: fc.record({ contact: encodedPii }),
      user: textWithPii,
      stream: fc.boolean(),
      max_output_tokens: sampling.max_tokens,
      temperature: sampling.temperature,
    }, { requiredKeys: ["input"] }),
    "/v1/completions": fc.record({ model: fc.constant("tiny"), prompt: textWithPii, stop: fc.array(encodedPii, { maxLength: 2 }), ...sampling }, { requiredKeys: ["prompt"] }),
    "/v1/embeddings": fc.record({ model: fc.constant("tiny-embed"), input: fc.array(textWithPii, { minLength: 1, maxLength: 2 }) }),
    "/v1/tasks": fc.record({
      input: fc.oneof(textWithPii, fc.dictionary(encodedPii, textWithPii, { maxKeys: 2 })),
      instructions: textWithPii,
      schema: schemaWithPii.map((inline) => ({ inline })),
      ...sampling,
    }, { requiredKeys: ["input"] }),
    "/v1/schemas": fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/), description: textWithPii, schema: schemaWithPii }),
  };

  for (const [path, body] of Object.entries(BODIES)) {
    const count = Math.max(10, Math.round(100 * SCALE));
    it(`POST ${path}: ${count} bodies carrying encoded PII and schema-borne PII, no 5xx`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          const raw = JSON.stringify(value);
          const response = await gw.gateway.app.request(path, {
            method: "POST",
            headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
            body: raw,
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await expectOrderly(response, `${path} ${raw.slice(0, 160)}`);
        }),
        { numRuns: count, seed: SEED },
      );
      const succeeded = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
      expect(succeeded, JSON.stringify([...statuses])).toBeGreaterThan(0);
    }, 600_000);
  }
});
