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
    expect(assembleResult([m("a"), m("b", ["a"])], results)).toEqual({ ok: true, value: { x: 1 } });
    expect(sinkMicrotasks([m("a"), m("b", ["a"])]).map((s) => s.id)).toEqual(["b"]);
  });

  it("returns an object by id when several microtasks are sinks", () => {
    expect(assembleResult([m("a"), m("b")], results)).toEqual({ ok: true, value: { a: "ta", b: { x: 1 } } });
  });

  const ok = (id: string, value: unknown): MicrotaskResult => ({ id, status: "succeeded", text: JSON.stringify(value), value, promptTokens: 0, completionTokens: 0, fallbacks: [] });

  it("lists the sinks' outputs in microtask order for \"list\", even a single one", () => {
    expect(assembleResult([m("b"), m("a")], results, "list")).toEqual({ ok: true, value: [{ x: 1 }, "ta"] });
    expect(assembleResult([m("a"), m("b", ["a"])], results, "list")).toEqual({ ok: true, value: [{ x: 1 }] });
  });

  it("merges the sinks' objects in microtask order for \"merge\"", () => {
    const parts = new Map([["p1", ok("p1", { name: "n", address: { city: "c" } })], ["p2", ok("p2", { age: 3 })], ["pre", ok("pre", "x")]]);
    const merged = assembleResult([m("pre"), m("p2", ["pre"]), m("p1")], parts, "merge");
    expect(merged).toEqual({ ok: true, value: { age: 3, name: "n", address: { city: "c" } } });
    expect(Object.keys((merged as { value: object }).value)).toEqual(["age", "name", "address"]);
  });

  it("refuses to merge an output that is not an object, or a property two sinks set, rather than drop it", () => {
    const parts = new Map([["p1", ok("p1", { a: 1 })], ["p2", ok("p2", [1])], ["p3", ok("p3", { a: 2, b: 1 })], ["p4", { ...ok("p4", null), value: undefined, text: "plain" }]]);
    const assembled = assembleResult([m("p1"), m("p2"), m("p3"), m("p4")], parts, "merge");
    expect(assembled).toEqual({
      ok: false,
      problems: [
        { microtask: "p2", code: "not_an_object", message: expect.stringMatching(/array, not an object/) },
        { microtask: "p3", code: "merge_conflict", message: expect.stringMatching(/"a" was already set by p1/) },
        { microtask: "p4", code: "not_an_object", message: expect.stringMatching(/string, not an object/) },
      ],
    });
  });

  it("keeps a \"__proto__\" property as data when merging", () => {
    const value = JSON.parse("{\"__proto__\":{\"polluted\":true}}") as unknown;
    const assembled = assembleResult([m("p")], new Map([["p", ok("p", value)]]), "merge") as { ok: true; value: Record<string, unknown> };
    expect(Object.getPrototypeOf(assembled.value)).toBe(Object.prototype);
    expect(Object.hasOwn(assembled.value, "__proto__")).toBe(true);
    expect(JSON.stringify(assembled.value)).toBe("{\"__proto__\":{\"polluted\":true}}");
  });

  it("tries each candidate model once, the chosen one first", () => {
    expect(candidateModels({ ...m("a"), model: "x", fallbackModels: ["y", "x", "z"] })).toEqual(["x", "y", "z"]);
  });
});
