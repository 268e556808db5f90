import { describe, expect, it } from "vitest";
import { assembleResult, candidateModels, checkMicrotasks, resolveMicrotaskInput, sinkMicrotasks } from "./microtask.js";
import type { Microtask, MicrotaskResult } from "./types.js";

const m = (id: string, dependsOn: string[] = [], prompt = id): Microtask => ({ id, model: "m", input: { kind: "completion", prompt }, dependsOn });

describe("checkMicrotasks", () => {
  it("accepts a DAG", () => {
    expect(checkMicrotasks([m("a"), m("b"), m("c", ["a", "b"])])).toEqual([]);
  });

  it("names empty tasks, duplicate ids, unknown and self dependencies, and cycles", () => {
    expect(checkMicrotasks([])).toEqual(["a task needs at least one microtask"]);
    expect(checkMicrotasks([m("a"), m("a")])).toEqual(["microtask id a is used twice"]);
    expect(checkMicrotasks([m("a", ["a"]), m("b", ["zz"])])).toEqual(["microtask a depends on itself", "microtask b depends on zz, which is not in the task"]);
    expect(checkMicrotasks([m("a", ["c"]), m("b", ["a"]), m("c", ["b"])])).toEqual(["microtasks depend on each other in a cycle: a → c → b → a"]);
  });
});

describe("resolveMicrotaskInput", () => {
  it("fills placeholders and appends predecessors no placeholder names", () => {
    const microtask = m("c", ["a", "b"], "use {{a}} and {{ a }}, not {{x}}");
    expect(resolveMicrotaskInput(microtask, { a: "A!", b: "B!" })).toEqual({ kind: "completion", prompt: "use A! and A!, not {{x}}\n\n[b]\nB!" });
  });

  it("appends to chat input as a last user message", () => {
    const microtask: Microtask = { id: "c", model: "m", dependsOn: ["a"], input: { kind: "chat", messages: [{ role: "system", content: "s" }, { role: "user", content: "u" }] } };
    expect(resolveMicrotaskInput(microtask, { a: "A" })).toEqual({ kind: "chat", messages: [{ role: "system", content: "s" }, { role: "user", content: "u" }, { role: "user", content: "[a]\nA" }] });
  });

  it("leaves a microtask without predecessors as it is", () => {
    expect(resolveMicrotaskInput(m("a", [], "{{a}}"), {})).toEqual({ kind: "completion", prompt: "{{a}}" });
  });
});

describe("assembly", () => {
  const results = new Map<string, MicrotaskResult>([
    ["a", { id: "a", status: "succeeded", text: "ta", promptTokens: 0, completionTokens: 0, fallbacks: [] }],
    ["b", { id: "b", status: "succeeded", text: "{\"x\":1}", value: { x: 1 }, promptTokens: 0, completionTokens: 0, fallbacks: [] }],
  ]);

  it("returns the one sink's output, its value for structured output", () => {
    expect(assembleResult([m("a"), m("b", ["a"])], results)).toEqual({ x: 1 });
    expect(sinkMicrotasks([m("a"), m("b", ["a"])]).map((s) => s.id)).toEqual(["b"]);
  });

  it("returns an object by id when several microtasks are sinks", () => {
    expect(assembleResult([m("a"), m("b")], results)).toEqual({ a: "ta", b: { x: 1 } });
  });

  it("tries each candidate model once, the chosen one first", () => {
    expect(candidateModels({ ...m("a"), model: "x", fallbackModels: ["y", "x", "z"] })).toEqual(["x", "y", "z"]);
  });
});
