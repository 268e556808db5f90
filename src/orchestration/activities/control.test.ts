import { ApplicationFailure } from "@temporalio/activity";
import { describe, expect, it } from "vitest";
import { NOT_HERE } from "../names.js";
import type { HostAdvertisement, InferenceOutcome, InferenceRequest, Microtask, MicrotaskResult } from "../types.js";
import { attemptExecutionId } from "./inference.js";
import { createControlActivities, placeModels, validateMicrotaskResults, type ControlActivityDeps } from "./control.js";

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

describe("runMicrotaskHere", () => {
  const microtask: Microtask = { id: "m", model: "alpha", input: { kind: "completion", prompt: "hi" }, dependsOn: [] };
  const request: InferenceRequest = { taskId: "t", requestId: "r", actor: { subject: "s", tenant: "default", tokenIdHash: "h" }, microtask, model: "alpha", predecessors: {} };
  const outcome: InferenceOutcome = { executionId: "e", model: "alpha", modelDigest: "d", hostId: "one", text: "ok", promptTokens: 1, completionTokens: 1, recovered: false };
  // Only the directory and the inference are reached by what is tested here.
  const activities = (inferenceHere?: ControlActivityDeps["inferenceHere"]) =>
    createControlActivities({ directory: { list: async () => [ad("one", ["alpha"], Date.now())] }, inferenceHere } as unknown as ControlActivityDeps);

  it("runs the inference when this process is the chosen host, without the queue in the request", async () => {
    const seen: InferenceRequest[] = [];
    const here = activities({ taskQueue: "q-one", runMicrotask: async (r) => (seen.push(r), outcome) });
    await expect(here.runMicrotaskHere({ ...request, taskQueue: "q-one" })).resolves.toEqual(outcome);
    expect(seen).toEqual([request]);
    await expect(here.locateModelsHere(["alpha"])).resolves.toEqual({ placement: { alpha: ["q-one"] }, here: "q-one" });
  });

  it("refuses, for good, on a worker that is another host or none, so the workflow sends it to the host's queue", async () => {
    let ran = false;
    const elsewhere = activities({ taskQueue: "q-two", runMicrotask: async () => ((ran = true), outcome) });
    for (const worker of [elsewhere, activities()]) {
      const refusal = await worker.runMicrotaskHere({ ...request, taskQueue: "q-one" }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ApplicationFailure);
      expect(refusal).toMatchObject({ type: NOT_HERE, nonRetryable: true });
    }
    expect(ran).toBe(false);
    await expect(activities().locateModelsHere(["alpha"])).resolves.toMatchObject({ here: null });
  });
});
