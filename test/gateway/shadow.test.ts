import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Shadow runs on real inference (src/bidding/shadow.ts, src/pipeline/steps/shadow.ts): where bidding sends a
 * request to the dear model, the cheap one answers too, after the answer, and the learner is taught how it did.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([
      { id: "cheap", options: { seed: 1 }, capabilities: ["chat"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.01, per1kCompletionTokens: 0.02 } },
      { id: "dear", options: { seed: 2 }, capabilities: ["chat"], cost: { unit: "compute-seconds", per1kPromptTokens: 10, per1kCompletionTokens: 20 } },
    ]),
    // Quality alone decides, so both models win some requests while the learner knows little.
    bidding: { policy: "logistic-ts", features: "hashed", shadowRate: 1, criteria: { weights: { quality: 1, cost: 0, latency: 0 } } },
  });
});
afterAll(async () => gw?.close());

type BiddingState = { models: Record<string, { observations: number }> };
const observations = async (): Promise<Record<string, number>> => {
  const state = (await (await gw.fetch("/v1/admin/bidding")).json()) as BiddingState;
  return Object.fromEntries(Object.entries(state.models).map(([id, model]) => [id, model.observations]));
};

// One allowed value: every valid answer is the same, so the two models' answers always agree.
const oneLabel = { type: "json_schema", json_schema: { name: "label", schema: { type: "object", properties: { label: { enum: ["ok"] } }, required: ["label"] } } };

describe("shadow runs", () => {
  it("runs the cheap model beside each request the dear one served, and teaches the learner its outcome", async () => {
    const chosen: Record<string, number> = { cheap: 0, dear: 0 };
    let shadowed = 0;
    for (let i = 0; i < 12; i++) {
      const response = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: `Is item ${i} in stock?` }], response_format: oneLabel, seed: i });
      expect(response.status).toBe(200);
      const body = await response.json();
      chosen[body.model]! += 1;
      const decision = (await (await gw.fetch(`/v1/executions/${response.headers.get("x-atomic-decision-id")}`)).json()).decision;
      if (decision.shadow !== undefined) {
        // Only ever the cheaper model, beside the dearer one.
        expect(decision.shadow).toEqual({ microtask: "task", model: "cheap" });
        expect(body.model).toBe("dear");
        shadowed++;
      }
    }
    expect(chosen["dear"]).toBeGreaterThan(0);
    expect(shadowed).toBeGreaterThan(0);
    // The served answers taught their models; each shadow taught the cheap model once more (agreeing answers: the
    // served reward), once its answer was compared.
    await vi.waitFor(async () => expect(await observations()).toEqual({ cheap: chosen["cheap"]! + shadowed, dear: chosen["dear"] }), { timeout: 20_000, interval: 100 });
  });

});
