import { describe, expect, it } from "vitest";
import { ApiError } from "../../gateway/errors.js";
import { prepareStructured } from "../structured.js";
import { embeddedSchema } from "./embed-schema.js";
import type { ToolsSpec } from "./types.js";

const weather = {
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 }, days: { type: "integer", minimum: 1, maximum: 5 } }, required: ["city", "days"] },
};
const time = { name: "get_time", parameters: { type: "object", properties: {} } };
const spec = (extra: Partial<ToolsSpec> = {}): ToolsSpec => ({ kind: "tools", tools: [weather, time], choice: "required", parallel: true, ...extra });
const call = (name: string, args: unknown) => `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;

describe("tool-call steering", () => {
  it("forces calls under required and reads every call with its tool's position", () => {
    const steering = prepareStructured(spec());
    expect(steering.grammar.split("\n")[0]).toBe("root ::= Tool-calls");
    expect(steering).toMatchObject({ toolCalls: true, freeText: false });
    expect(steering.check(`${call("get_time", {})}\n${call("get_weather", { city: "Paris", days: 2 })}`)).toEqual({
      ok: true, toolCalls: [{ index: 1, arguments: {} }, { index: 0, arguments: { city: "Paris", days: 2 } }],
    });
    expect(steering.check("Paris is sunny")).toMatchObject({ ok: false });
  });

  it("checks arguments against the tool's own schema, what the grammar only approximates included", () => {
    const result = prepareStructured(spec()).check(call("get_weather", { city: "Paris", days: 9 }));
    expect(result).toMatchObject({ ok: false, violations: [{ path: "/tool_calls/0/arguments/days", keyword: "maximum" }] });
  });

  it("refuses a call of a tool tool_choice did not name, a call cut short, and more calls than allowed", () => {
    const named = prepareStructured(spec({ choice: { name: "get_weather" } }));
    expect(named.check(call("get_time", {}))).toMatchObject({ ok: false, violations: [{ path: "/tool_calls/0/name" }] });
    expect(named.check('<tool_call>\n{"name": "get_weather", "argu')).toMatchObject({ ok: false, violations: [{ keyword: "tool_call" }] });
    const single = prepareStructured(spec({ parallel: false }));
    expect(single.check(`${call("get_time", {})}\n${call("get_time", {})}`)).toMatchObject({ ok: false, violations: [{ path: "/tool_calls/1" }] });
  });

  it("lets auto answer in free text that does not begin with '<', or in the response format when one is given", () => {
    const auto = prepareStructured(spec({ choice: "auto" }));
    expect(auto).toMatchObject({ freeText: true });
    expect(auto.grammar).toContain("Answer ::= ([^<] [^\\x00]*)?");
    expect(auto.check("It is sunny.")).toEqual({ ok: true });
    const formatted = prepareStructured(spec({ choice: "auto", answer: { kind: "json_object" } }));
    expect(formatted).toMatchObject({ freeText: false });
    expect(formatted.check('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(formatted.check("It is sunny.")).toMatchObject({ ok: false });
  });

  it("names the tool whose schema cannot be used", () => {
    const bad = spec({ tools: [weather, { name: "f", parameters: { type: "object", properties: { a: { not: {} } } } }] });
    expect(() => prepareStructured(bad)).toThrow(ApiError);
    try {
      prepareStructured(bad);
    } catch (error) {
      expect(error).toMatchObject({ code: "schema_unsupported", param: "tools[1].function.parameters" });
    }
  });

  it("compiles parameter schemas with references into themselves, beside each other", () => {
    const withDefs = (name: string) => ({
      name,
      parameters: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { where: { $ref: "#/$defs/place" } }, required: ["where"], $defs: { place: { enum: [name] } } },
    });
    const steering = prepareStructured(spec({ tools: [withDefs("a"), withDefs("b")] }));
    expect(steering.check(call("b", { where: "b" }))).toEqual({ ok: true, toolCalls: [{ index: 1, arguments: { where: "b" } }] });
    expect(embeddedSchema(withDefs("a").parameters, "/anyOf/0/properties/arguments")).toEqual({
      type: "object", properties: { where: { $ref: "#/anyOf/0/properties/arguments/$defs/place" } }, required: ["where"], $defs: { place: { enum: ["a"] } },
    });
  });

  it("keeps its rule names apart from the answer format's", () => {
    const grammar = prepareStructured(spec({ choice: "auto", answer: { kind: "json_schema", schema: weather.parameters, ref: null, param: "response_format" } })).grammar;
    const names = grammar.trimEnd().split("\n").map((line) => line.split(" ::= ")[0]);
    expect(new Set(names).size).toBe(names.length);
  });
});
