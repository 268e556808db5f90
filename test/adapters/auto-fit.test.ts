import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { seededRng } from "../../src/util/rng.js";
import { auditEvents } from "../support/audit-events.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Fits the ratings start themselves (adaptation.autoFit): the `minExamples`-th new rating of a tenant's task class
 * starts a fit of it, audited like an operator's, with no one asking; fewer ratings, or another tenant's, start none.
 * The task (a colour word names the label) is the one test/adapters/fit-route.test.ts fits by hand.
 */
const MIN_EXAMPLES = 12;
const LABELS = ["x", "y", "z"];
const CUES: Record<string, string> = { x: "red", y: "blue", z: "green" };

let gw: TestGateway;
let ward7: string;
let ward8: string;

beforeAll(async () => {
  const policyDir = internalPolicyDir();
  gw = await startTestGateway({ models: writeTestModels([{ id: "gen" }]), policy: { dir: policyDir }, adaptation: { autoFit: { enabled: true, minExamples: MIN_EXAMPLES } } });
  ward7 = await gw.issueKey("ward-7", ["infer"]);
  ward8 = await gw.issueKey("ward-8", ["infer"]);
}, 120_000);
afterAll(async () => gw?.close());

async function rate(key: string, count: number, seed: number): Promise<void> {
  const random = seededRng(seed);
  for (let i = 0; i < count; i++) {
    const label = LABELS[i % LABELS.length]!;
    const prompt = `Text: the ${random() < 0.5 ? "cat" : "dog"} is ${CUES[label]}\nLabel:`;
    const response = await gw.post("/v1/completions", { model: "gen", prompt, max_tokens: 2, temperature: 0, atomic_task: "colour" }, { authorization: `Bearer ${key}` });
    expect(response.status).toBe(200);
    const rated = await gw.post("/v1/feedback", { execution_id: response.headers.get("x-atomic-execution-id"), score: 0, correction: label }, { authorization: `Bearer ${key}` });
    expect(rated.status).toBe(200);
  }
}

const fitEvents = async (): Promise<AuditEvent[]> => {
  await gw.gateway.audit.sequencer.drain();
  return (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "adapter.fitted");
};

describe("automatic fits", () => {
  it("starts none below minExamples ratings, nor from another tenant's ratings of the same class", async () => {
    await rate(ward7, MIN_EXAMPLES - 1, 1);
    await rate(ward8, MIN_EXAMPLES - 1, 2);
    // A started fit is sequenced as soon as it finishes (a second for this model); none may have started.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await fitEvents()).toEqual([]);
  });

  it("fits the class from the tenant's ratings at the minExamples-th one, audited as the automatic fitter's", async () => {
    await rate(ward7, 1, 3);
    let events: AuditEvent[] = [];
    for (let waited = 0; events.length === 0 && waited < 60_000; waited += 200) {
      events = await fitEvents();
      if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(events).toHaveLength(1);
    expect(events[0]!.actor).toMatchObject({ subject: "atomic:auto-fit", tenant: "ward-7" });
    expect(events[0]!.detail).toMatchObject({ tenant: "ward-7", examples: MIN_EXAMPLES, taskClass: "task:colour" });
  }, 90_000);
});
