import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Schemas are the callers' and compile and check on the event loop every request shares: one that is too large to
 * compile cheaply is refused with a 400 that says so (an enum of 140,000 values was a 500, a oneOf of thousands of
 * constants stalled every other request for seconds), and a pattern that backtracks exponentially in V8 is checked in
 * linear time (41 s for one answer before).
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny", capabilities: ["chat", "completion"] }]) });
});
afterAll(async () => gw?.close());

const chat = (schema: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  gw.post("/v1/chat/completions", {
    model: "tiny",
    messages: [{ role: "user", content: "go" }],
    response_format: { type: "json_schema", json_schema: { name: "probe", schema } },
    ...extra,
  });

async function refusal(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await response.json();
  return { status: response.status, code: body.error.code, message: body.error.message };
}

describe("schemas too large to compile cheaply", () => {
  const enumOf140k = { type: "integer", enum: Array.from({ length: 140_000 }, (_, i) => i) };
  const oneOf4k = { oneOf: Array.from({ length: 4_000 }, (_, i) => ({ const: `v${i}` })) };

  it("refuses them on chat with a 400 naming the limit", async () => {
    expect(await refusal(await chat(enumOf140k, { max_tokens: 4 }))).toMatchObject({ status: 400, code: "schema_unsupported", message: expect.stringContaining("more than 10000 enum and const values") });
    expect(await refusal(await chat(oneOf4k, { max_tokens: 4 }))).toMatchObject({ status: 400, code: "schema_unsupported", message: expect.stringContaining("at most 128 are supported") });
  });

  it("refuses them at registration, registering nothing", async () => {
    expect(await refusal(await gw.post("/v1/schemas", { name: "big-enum", schema: enumOf140k }))).toMatchObject({ status: 400 });
    expect((await gw.fetch("/v1/schemas/big-enum")).status).toBe(404);
  });
});

describe("patterns checked against an answer", () => {
  // The enum forces the answer; the pattern refuses it, which a backtracking engine needs ~2^n steps to find.
  const forced = (pattern: string) => ({ type: "object", properties: { s: { type: "string", enum: [`${"a".repeat(40)}!`], pattern } }, required: ["s"] });

  it("answers a pattern that backtracks exponentially in V8 (^(a+)+$) as failing validation", async () => {
    const response = await chat(forced("^(a+)+$"));
    expect(await refusal(response)).toMatchObject({ status: 422, code: "structured_output_invalid" });
  });

  it("answers the same through a required tool call's arguments", async () => {
    const response = await gw.post("/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "go" }],
      tools: [{ type: "function", function: { name: "t", parameters: forced("^(a+)+$") } }],
      tool_choice: "required",
    });
    expect(response.status).toBeLessThan(500);
    await response.text();
  });
});
