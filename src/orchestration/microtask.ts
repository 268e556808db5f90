/**
 * Pure functions over microtasks, shared by the workflow (which must stay deterministic) and the activities: no
 * Node APIs, no clocks, no randomness.
 */
import type { Microtask, MicrotaskInput, MicrotaskResult, TaskInput, ValidationProblem } from "./types.js";

/** Problems that make a task impossible to run: empty, duplicate or unknown ids, self-dependencies, cycles. */
export function checkMicrotasks(microtasks: readonly Microtask[]): string[] {
  const problems: string[] = [];
  if (microtasks.length === 0) problems.push("a task needs at least one microtask");
  const ids = new Set<string>();
  for (const m of microtasks) {
    if (typeof m.id !== "string" || m.id.length === 0) problems.push("every microtask needs a non-empty id");
    else if (ids.has(m.id)) problems.push(`microtask id ${m.id} is used twice`);
    ids.add(m.id);
    if (typeof m.model !== "string" || m.model.length === 0) problems.push(`microtask ${m.id} names no model`);
  }
  for (const m of microtasks) {
    for (const dep of m.dependsOn) {
      if (dep === m.id) problems.push(`microtask ${m.id} depends on itself`);
      else if (!ids.has(dep)) problems.push(`microtask ${m.id} depends on ${dep}, which is not in the task`);
    }
  }
  if (problems.length === 0) {
    const cycle = findCycle(microtasks);
    if (cycle) problems.push(`microtasks depend on each other in a cycle: ${cycle.join(" → ")}`);
  }
  return problems;
}

function findCycle(microtasks: readonly Microtask[]): string[] | undefined {
  const byId = new Map(microtasks.map((m) => [m.id, m]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id];
    state.set(id, "visiting");
    path.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const m of microtasks) {
    const found = visit(m.id);
    if (found) return found;
  }
  return undefined;
}

/** The models to try for a microtask, in order, each once. */
export function candidateModels(microtask: Microtask): string[] {
  return [...new Set([microtask.model, ...(microtask.fallbackModels ?? [])])];
}

/** How a predecessor's output is passed on: its text, or its JSON for structured microtasks. */
export function outputText(result: Pick<MicrotaskResult, "text" | "value">): string {
  if (result.value !== undefined) return JSON.stringify(result.value);
  return result.text ?? "";
}

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/**
 * The microtask's input with its predecessors' outputs in it: "{{id}}" is replaced by predecessor id's output, and
 * predecessors named by no placeholder are appended — to the prompt, or as a last user message — as
 * "[id]\n<output>" blocks, in dependsOn order.
 */
export function resolveMicrotaskInput(microtask: Microtask, predecessors: Readonly<Record<string, string>>): MicrotaskInput {
  const used = new Set<string>();
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (whole, id: string) => {
      if (!Object.hasOwn(predecessors, id)) return whole;
      used.add(id);
      return predecessors[id]!;
    });
  const filled: MicrotaskInput = microtask.input.kind === "completion"
    ? { kind: "completion", prompt: fill(microtask.input.prompt) }
    : { kind: "chat", messages: microtask.input.messages.map((m) => ({ role: m.role, content: fill(m.content) })) };
  const rest = microtask.dependsOn.filter((id) => !used.has(id) && Object.hasOwn(predecessors, id));
  if (rest.length === 0) return filled;
  const context = rest.map((id) => `[${id}]\n${predecessors[id]}`).join("\n\n");
  if (filled.kind === "completion") return { kind: "completion", prompt: `${filled.prompt}\n\n${context}` };
  return { kind: "chat", messages: [...filled.messages, { role: "user", content: context }] };
}

/** The microtasks no other microtask depends on: their outputs are the task's result. */
export function sinkMicrotasks(microtasks: readonly Microtask[]): Microtask[] {
  const needed = new Set(microtasks.flatMap((m) => m.dependsOn));
  return microtasks.filter((m) => !needed.has(m.id));
}

/** Checks a structured output against its schema (the control activities pass the gateway's JSON Schema validator). */
export type SchemaCheck = (schema: Record<string, unknown>, value: unknown) => { valid: boolean; violations?: unknown[] };

/**
 * Problems with succeeded microtasks' outputs: a result for a microtask the task does not have, missing text, and
 * for a microtask with a schema a missing value or one that `checkSchema` rejects. Without `checkSchema` (the
 * workflow checks tasks that have no schema itself, with no activity) a microtask with a schema is an error.
 */
export function validateOutputs(microtasks: readonly Microtask[], results: readonly MicrotaskResult[], checkSchema?: SchemaCheck): ValidationProblem[] {
  const byId = new Map(microtasks.map((m) => [m.id, m]));
  const problems: ValidationProblem[] = [];
  for (const result of results) {
    if (result.status !== "succeeded") continue;
    const microtask = byId.get(result.id);
    if (!microtask) {
      problems.push({ microtask: result.id, code: "unknown_microtask", message: "a result for a microtask the task does not have" });
      continue;
    }
    if (typeof result.text !== "string") {
      problems.push({ microtask: result.id, code: "output_missing", message: "the inference returned no text" });
      continue;
    }
    if (microtask.schema) {
      if (!checkSchema) throw new Error(`microtask ${microtask.id} has a schema and no schema check was given`);
      if (result.value === undefined) {
        problems.push({ microtask: result.id, code: "output_missing", message: "a structured microtask returned no value" });
        continue;
      }
      const check = checkSchema(microtask.schema, result.value);
      if (!check.valid) problems.push({ microtask: result.id, code: "schema_violation", message: "the output does not satisfy the microtask's schema", violations: check.violations ?? [] });
    }
  }
  return problems;
}

export type Assembled = { ok: true; value: unknown } | { ok: false; problems: ValidationProblem[] };

/**
 * The task's result from its sinks' outputs (a structured microtask's value, else its text):
 *   - no assembly: the single sink's output, else an object of them by microtask id;
 *   - "list": the outputs in microtask order, whatever their number;
 *   - "merge": one object with each sink's properties, in microtask order. A sink whose output is not an object, or
 *     that sets a property another sink already set, is a problem: the parts were meant to be disjoint pieces of
 *     one object, and dropping or overwriting one would hand the caller an answer nobody produced.
 */
export function assembleResult(microtasks: readonly Microtask[], results: ReadonlyMap<string, MicrotaskResult>, assembly?: TaskInput["assembly"]): Assembled {
  const output = (id: string) => {
    const r = results.get(id);
    return r?.value !== undefined ? r.value : (r?.text ?? null);
  };
  const sinks = sinkMicrotasks(microtasks);
  if (assembly === "list") return { ok: true, value: sinks.map((m) => output(m.id)) };
  if (assembly === "merge") {
    const merged: Record<string, unknown> = {};
    const setBy = new Map<string, string>();
    const problems: ValidationProblem[] = [];
    for (const sink of sinks) {
      const value = output(sink.id);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
        problems.push({ microtask: sink.id, code: "not_an_object", message: `its output is ${got}, not an object, so it cannot be merged into the result` });
        continue;
      }
      for (const [key, property] of Object.entries(value)) {
        const earlier = setBy.get(key);
        if (earlier !== undefined) {
          problems.push({ microtask: sink.id, code: "merge_conflict", message: `its property ${JSON.stringify(key)} was already set by ${earlier}` });
          continue;
        }
        setBy.set(key, sink.id);
        // Defined, not assigned: a model's "__proto__" key is data, and must not become the result's prototype.
        Object.defineProperty(merged, key, { value: property, enumerable: true, writable: true, configurable: true });
      }
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, value: merged };
  }
  if (sinks.length === 1) return { ok: true, value: output(sinks[0]!.id) };
  return { ok: true, value: Object.fromEntries(sinks.map((m) => [m.id, output(m.id)])) };
}
