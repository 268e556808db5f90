import { describe, expect, it } from "vitest";
import type { HostAdvertisement, Microtask, MicrotaskResult } from "../types.js";
import { attemptExecutionId } from "./inference.js";
import { placeModels, validateMicrotaskResults } from "./control.js";

const ad = (hostId: string, models: string[], advertisedAt: number, ttlMs = 1_000): HostAdvertisement => ({
  hostId,
  taskQueue: `q-${hostId}`,
  models: models.map((id) => ({ id, sha256: "0".repeat(64) })),
  advertisedAt,
  ttlMs,
});

describe("placeModels", () => {
  it("lists the live hosts of each model, freshest first, and leaves out stale ones", () => {
    const hosts = [ad("old", ["a"], 100), ad("one", ["a", "b"], 5_000), ad("two", ["a"], 5_500), ad("stale", ["b"], 1_000)];
    expect(placeModels(["a", "b", "c"], hosts, 6_000)).toEqual({ a: ["q-two", "q-one"], b: ["q-one"], c: [] });
  });
});

describe("validateMicrotaskResults", () => {
  const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
  const microtasks: Microtask[] = [
    { id: "s", model: "m", input: { kind: "completion", prompt: "" }, dependsOn: [], schema },
    { id: "t", model: "m", input: { kind: "completion", prompt: "" }, dependsOn: [] },
  ];
  const result = (id: string, extra: Partial<MicrotaskResult>): MicrotaskResult => ({ id, status: "succeeded", promptTokens: 0, completionTokens: 0, fallbacks: [], ...extra });

  it("accepts outputs that match", () => {
    expect(validateMicrotaskResults(microtasks, [result("s", { text: "{\"n\":1}", value: { n: 1 } }), result("t", { text: "" })])).toEqual([]);
  });

  it("reports schema violations and missing output", () => {
    const problems = validateMicrotaskResults(microtasks, [result("s", { text: "{}", value: {} }), result("t", {})]);
    expect(problems.map((p) => [p.microtask, p.code])).toEqual([["s", "schema_violation"], ["t", "output_missing"]]);
  });
});

describe("attemptExecutionId", () => {
  it("is a UUIDv7 that is the same for the same try and differs between tries", () => {
    const parts = { workflowId: "w", runId: "r", activityId: "3", attempt: 1, scheduledMs: Date.UTC(2026, 0, 1) };
    const id = attemptExecutionId(parts);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(attemptExecutionId({ ...parts })).toBe(id);
    expect(attemptExecutionId({ ...parts, attempt: 2 })).not.toBe(id);
    expect(id.replace(/-/g, "").slice(0, 12)).toBe(parts.scheduledMs.toString(16).padStart(12, "0"));
  });
});
