import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * Inference-time adaptation through the gateway, on a generated model (what it answers does not matter here; what
 * it is given and what is recorded does): exemplars stay inside their tenant and classification and out of erased
 * content, parameters come from the request before what was learned before the operator's defaults, and every
 * execution records and audits its plan.
 */
let gw: TestGateway;
let ward7: string;
let ward7Admin: string;
let ward8: string;

beforeAll(async () => {
  const policyDir = internalPolicyDir();
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny", options: { seed: 1 }, capabilities: ["chat", "completion"] }]),
    policy: { dir: policyDir },
    adaptation: { minFeedback: 1, parameters: { defaults: { temperature: 0.7, minP: 0.01 } } },
  });
  ward7 = await gw.issueKey("ward-7", ["infer", "tasks"]);
  ward7Admin = await gw.issueKey("ward-7", ["admin"]);
  ward8 = await gw.issueKey("ward-8", ["infer", "tasks"]);
});
afterAll(async () => gw?.close());

const as = (key: string, classification?: string) => ({ authorization: `Bearer ${key}`, ...(classification ? { "x-atomic-data-classification": classification } : {}) });

async function chat(key: string, body: Record<string, unknown>, classification?: string): Promise<string> {
  const response = await gw.post("/v1/chat/completions", { model: "tiny", max_tokens: 2, seed: 1, ...body }, as(key, classification));
  expect(response.status).toBe(200);
  return response.headers.get("x-atomic-execution-id")!;
}

async function adaptationOf(key: string, id: string) {
  const stored = await (await gw.fetch(`/v1/executions/${id}`, { headers: as(key) })).json();
  return stored.parameters.adaptation;
}

async function rate(key: string, id: string, score: number) {
  const response = await gw.post("/v1/feedback", { execution_id: id, score }, as(key));
  expect(response.status).toBe(200);
  return response.json();
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: "user", content }], atomic_task: "triage", ...extra });
const withExemplars = { atomic_adaptation: { strategies: ["exemplars"] } };

describe("exemplars", () => {
  let internal: string;
  let confidential: string;
  let other: string;

  beforeAll(async () => {
    internal = await chat(ward7, ask("The printer on floor 3 is jammed again"), "internal");
    confidential = await chat(ward7, ask("The printer in the records room is jammed"), "confidential");
    other = await chat(ward8, ask("The printer on floor 3 is jammed"), "internal");
    for (const [key, id] of [[ward7, internal], [ward7, confidential], [ward8, other]] as const) {
      expect(await rate(key, id, 1)).toMatchObject({ adaptation: { task_class: "task:triage", learned: true } });
    }
  });

  it("come only from the same tenant, at or below the request's classification", async () => {
    const publicRequest = await chat(ward7, ask("Is the printer jammed?", withExemplars), "public");
    expect((await adaptationOf(ward7, publicRequest)).exemplars).toEqual([]);
    const internalRequest = await chat(ward7, ask("Is the printer jammed?", withExemplars), "internal");
    expect((await adaptationOf(ward7, internalRequest)).exemplars).toEqual([internal]);
    const secretRequest = await chat(ward7, ask("Is the printer jammed?", withExemplars), "secret");
    expect((await adaptationOf(ward7, secretRequest)).exemplars.sort()).toEqual([internal, confidential].sort());
    const otherTenant = await chat(ward8, ask("Is the printer jammed?", withExemplars), "secret");
    expect((await adaptationOf(ward8, otherTenant)).exemplars).toEqual([other]);
  });

  it("are recorded and audited by execution id, their text never", async () => {
    const id = await chat(ward7, ask("Is the printer jammed?", withExemplars), "internal");
    const record = await adaptationOf(ward7, id);
    expect(record).toMatchObject({ taskClass: "task:triage", mode: "forced", strategies: ["exemplars"], exemplars: [internal], adapter: null });
    expect(record.exemplarTokens).toBeGreaterThan(0);
    let event;
    for (let i = 0; i < 100 && event === undefined; i++) {
      event = (await auditEvents(gw.databaseUrl)).find((e) => e.id === id);
      if (event === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(event?.parameters).toMatchObject({ adaptation: { exemplars: [internal], adapter: null, taskClass: "task:triage" } });
    expect(JSON.stringify(event)).not.toContain("floor 3");
  });

  it("never come from an erased execution", async () => {
    const erased = await gw.post("/v1/admin/erasure", { execution_id: internal }, as(ward7Admin));
    expect(erased.status).toBe(200);
    const after = await chat(ward7, ask("Is the printer jammed?", withExemplars), "internal");
    expect((await adaptationOf(ward7, after)).exemplars).toEqual([]);
    // What the erased execution keeps of its own adaptation record: ids and sources, no text.
    const stored = await (await gw.fetch(`/v1/executions/${internal}`, { headers: as(ward7) })).json();
    expect(stored.input).toBeNull();
    expect(stored.parameters.adaptation).toMatchObject({ taskClass: "task:triage", exemplars: [] });
  });
});

describe("sampling parameters", () => {
  it("come from the request, then from what was learned, then from the operator", async () => {
    const task = { atomic_task: "params" };
    // Until a class has had feedback it runs as sent, with the operator's defaults.
    const cold = await chat(ward7, ask("first", task));
    expect(await adaptationOf(ward7, cold)).toMatchObject({ mode: "cold", strategies: [], sources: { temperature: "operator", minP: "operator", maxTokens: "request" } });
    await rate(ward7, cold, 0);
    // Teach it: only greedy sampling is any good for this class, until what it would choose without exploring (the
    // tenant admin's view of the learner) is greedy: one good greedy answer is not always enough to outweigh the
    // other answers that had the parameters strategy on.
    const exploits = async () => {
      const state = await (await gw.fetch("/v1/admin/adaptation?task_class=task:params", { headers: as(ward7Admin) })).json();
      return state.classes[0]?.models[0]?.preset;
    };
    let taught = false;
    for (let i = 0; i < 150 && !taught; i++) {
      const id = await chat(ward7, ask(`question ${i}`, task));
      const record = await adaptationOf(ward7, id);
      const greedy = record.strategies.includes("parameters") && record.preset === "greedy";
      await rate(ward7, id, greedy ? 1 : 0);
      taught = greedy && (await exploits()) === "greedy";
    }
    expect(taught).toBe(true);
    // One learner serves every tenant: a tenant's admin may not stop it, the site's operator may.
    const refused = await gw.post("/v1/admin/adaptation/freeze", {}, as(ward7Admin));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
    const frozen = await gw.post("/v1/admin/adaptation/freeze", {}, as(gw.adminKey));
    expect(await frozen.json()).toMatchObject({ object: "adaptation.state", frozen: true });
    try {
      const learned = await chat(ward7, ask("again", task));
      const record = await adaptationOf(ward7, learned);
      expect(record).toMatchObject({ mode: "learned", preset: "greedy", sources: { temperature: "learned", minP: "operator", maxTokens: "request" } });
      const stored = await (await gw.fetch(`/v1/executions/${learned}`, { headers: as(ward7) })).json();
      expect(stored.parameters).toMatchObject({ temperature: 0, minP: 0.01, maxTokens: 2 });

      const requested = await chat(ward7, ask("again", { ...task, temperature: 0.5, min_p: 0.2, top_k: 7 }));
      expect(await adaptationOf(ward7, requested)).toMatchObject({ sources: { temperature: "request", minP: "request", topK: "request" } });
      const storedRequested = await (await gw.fetch(`/v1/executions/${requested}`, { headers: as(ward7) })).json();
      expect(storedRequested.parameters).toMatchObject({ temperature: 0.5, minP: 0.2, topK: 7 });

      const admin = await (await gw.fetch("/v1/admin/adaptation?task_class=task:params", { headers: as(ward7Admin) })).json();
      expect(admin).toMatchObject({ tenant: "ward-7", frozen: true, classes: [{ task_class: "task:params", models: [{ model: "tiny", preset: "greedy", parameters: { temperature: 0 }, adapter: null }] }] });
      expect(admin.classes[0].models[0].strategies).toContain("parameters");
    } finally {
      await gw.post("/v1/admin/adaptation/unfreeze", {}, as(gw.adminKey));
    }
    const changes = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "adaptation.changed");
    expect(changes.map((e) => (e.detail as { action: string }).action)).toContain("freeze");
  });
});

describe("the request fields", () => {
  it("are validated, and refused where they cannot apply", async () => {
    const bad = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }], atomic_task: "not a label!" }, as(ward7));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: "invalid_parameter", param: "atomic_task" });
    const strategy = await gw.post("/v1/completions", { model: "tiny", prompt: "x", atomic_adaptation: { strategies: ["magic"] } }, as(ward7));
    expect(strategy.status).toBe(400);
    const off = await gw.post("/v1/completions", { model: "tiny", prompt: "x", max_tokens: 2, atomic_adaptation: "off" }, as(ward7));
    expect(off.status).toBe(200);
    expect(await adaptationOf(ward7, off.headers.get("x-atomic-execution-id")!)).toMatchObject({ mode: "off", strategies: [] });
    // The label and adaptation choice go with an asynchronous task to its microtasks; extra sampling does not.
    const asyncTask = await gw.post("/v1/tasks", { input: "x", mode: "async", atomic_task: "triage", top_k: 5 }, as(ward7));
    expect(asyncTask.status).toBe(400);
    expect((await asyncTask.json()).error).toMatchObject({ code: "parameter_requires_sync", param: "top_k" });
    const syncTask = await gw.post("/v1/tasks", { input: "x", max_tokens: 2, atomic_task: "triage", repetition_penalty: 1 }, as(ward7));
    expect(syncTask.status).toBe(200);
    expect(await adaptationOf(ward7, (await syncTask.json()).id)).toMatchObject({ taskClass: "task:triage", sources: { repeatPenalty: "request" } });
  });
});
