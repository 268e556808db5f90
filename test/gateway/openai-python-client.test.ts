import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/** What test/gateway/python/openai_client_check.py printed: per call what it got back, or the exception raised. */
type Report = Record<string, Record<string, any>>;

let gw: TestGateway;
let report: Report;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  const key = await gw.issueKey("default", ["infer", "embed"]);
  // The official Python client, unchanged, from the venv the global setup installs (scripts/install-pyclient.mjs).
  const { stdout } = await promisify(execFile)(inject("pyclientPython"), [join(import.meta.dirname, "python", "openai_client_check.py")], {
    env: {
      ...process.env,
      ATOMIC_BASE_URL: `${gw.url}/v1`,
      ATOMIC_API_KEY: key,
      // Shaped like an issued key, with a secret no key has: the refusal comes from the check, not from the format.
      ATOMIC_BAD_API_KEY: `${key.slice(0, 21)}${"A".repeat(43)}`,
      ATOMIC_MODEL: "tiny",
      // A proxy set for the machine must not carry the client's requests to the loopback gateway.
      NO_PROXY: "127.0.0.1",
    },
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
  report = JSON.parse(stdout.trim().split("\n").at(-1)!) as Report;
}, 300_000);
afterAll(async () => gw?.close());

/** One call's result; a call that raised fails here with the Python traceback. */
function result(name: string): Record<string, any> {
  const entry = report[name];
  if (entry === undefined) throw new Error(`the script reported nothing for ${name}`);
  if ("exception" in entry) throw new Error(`${name} raised ${entry["exception"]}\n${entry["traceback"]}`);
  return entry;
}

function expectValid(schema: object, value: unknown): void {
  const validate = new Ajv({ strict: false }).compile(schema);
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

describe("the official openai Python client works against Atomic unchanged", () => {
  it("is the version scripts/pyclient/requirements.txt pins", () => {
    const requirements = readFileSync(join(import.meta.dirname, "..", "..", "scripts", "pyclient", "requirements.txt"), "utf8");
    expect(report["openai_version"]).toBe(/^openai==(\S+)/m.exec(requirements)?.[1]);
  });

  it("lists models", () => {
    expect(result("models")["ids"]).toContain("tiny");
  });

  it("creates a chat completion", () => {
    const chat = result("chat");
    expect(chat).toMatchObject({ object: "chat.completion", role: "assistant", finish_reason: "length" });
    expect(chat["content"].length).toBeGreaterThan(0);
    expect(chat["usage"]).toMatchObject({ completion_tokens: 8, total_tokens: chat["usage"].prompt_tokens + 8 });
  });

  it("streams exactly what it answers whole at temperature 0 and one seed", () => {
    const stream = result("stream");
    expect(stream["objects"]).toEqual(["chat.completion.chunk"]);
    expect(stream["chunks"]).toBeGreaterThan(1);
    expect(stream["finish_reason"]).toBe("length");
    expect(stream["usage"]).toMatchObject({ completion_tokens: 8 });
    expect(stream["text"]).toBe(result("chat")["content"]);
  });

  it("returns JSON that satisfies a json_schema response format", () => {
    const { schema, content } = result("json_schema");
    const value = JSON.parse(content);
    expectValid(schema, value);
    expect(Object.keys(value).sort()).toEqual(["age", "name"]);
  });

  it("parses into a pydantic model through chat.completions.parse", () => {
    const { schema, content, parsed_type, parsed } = result("parse");
    expect(parsed_type).toBe("City");
    expectValid(schema, parsed);
    expect(parsed).toEqual(JSON.parse(content));
  });

  it("calls the named tool with arguments valid for its parameters", () => {
    const { parameters, finish_reason, content, tool_calls } = result("tool_call");
    expect(finish_reason).toBe("tool_calls");
    expect(content).toBeNull();
    expect(tool_calls).toHaveLength(1);
    expect(tool_calls[0]).toMatchObject({ type: "function", name: "get_weather", id: expect.stringMatching(/^call_/) });
    const args = JSON.parse(tool_calls[0].arguments);
    expectValid(parameters, args);
    expect(Object.keys(args)).toEqual(["city"]);
  });

  it("creates a text completion", () => {
    const completion = result("completion");
    expect(completion["object"]).toBe("text_completion");
    expect(completion["text"].length).toBeGreaterThan(0);
    expect(completion["usage"]).toMatchObject({ completion_tokens: 5 });
  });

  it("creates embeddings (the client asks for base64 and decodes it)", () => {
    const embeddings = result("embeddings");
    expect(embeddings["count"]).toBe(2);
    expect(embeddings["dimensions"]).toEqual([64, 64]);
    expect(embeddings["finite"]).toBe(true);
    expect(embeddings["vectors"][0]).not.toEqual(embeddings["vectors"][1]);
  });

  it("raises NotFoundError for an unknown model", () => {
    expect(result("unknown_model")).toMatchObject({ class: "NotFoundError", status: 404, code: "model_not_found", body: { type: "not_found_error", code: "model_not_found", param: "model" } });
  });

  it("raises AuthenticationError for a key the gateway never issued", () => {
    expect(result("bad_key")).toMatchObject({ class: "AuthenticationError", status: 401, code: "invalid_credentials", body: { type: "authentication_error", code: "invalid_credentials" } });
  });
});
