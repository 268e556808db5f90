import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { until } from "../support/until.js";

/**
 * An operator's unload and load, made on one gateway, in force on every gateway of the database: two gateways of
 * one site, on one database, serving the same pinned models.
 */
let a: TestGateway;
let b: TestGateway;
let models: TestModels;
const REFRESH_MS = 200;

beforeAll(async () => {
  models = writeTestModels([
    { id: "shared", parallel: 1, options: { seed: 5 }, capabilities: ["chat", "completion"] },
    { id: "steady", parallel: 1, options: { seed: 6 }, capabilities: ["chat", "completion"] },
  ]);
  a = await startTestGateway({ models, serviceStateRefreshMs: REFRESH_MS });
  b = await startTestGateway({ models, sameSiteAs: a, serviceStateRefreshMs: REFRESH_MS });
});
// The second gateway first: the first one's close drops the database.
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const complete = (gw: TestGateway, model: string) => gw.post("/v1/completions", { model, prompt: "go", max_tokens: 2, temperature: 0 });
const stateOn = async (gw: TestGateway, id: string) => (await (await gw.fetch(`/v1/models/${id}`)).json()).atomic.state as string;

describe("an operator's unload and load on a site of two gateways", () => {
  it("unloaded on one gateway, is refused and listed as unloaded on the other within its refresh", async () => {
    expect((await complete(b, "shared")).status).toBe(200);
    const unloaded = await a.post("/v1/admin/models/shared/unload", {});
    expect(unloaded.status).toBe(200);
    expect(await unloaded.json()).toMatchObject({ object: "model.unload", id: "shared" });

    await until(async () => (await complete(b, "shared")).status === 503);
    const refused = await complete(b, "shared");
    expect((await refused.json()).error.code).toBe("model_unloaded");
    await until(async () => (await stateOn(b, "shared")) === "unloaded");
    const listed = (await (await b.fetch("/v1/models")).json()).data.find((m: { id: string }) => m.id === "shared");
    expect(listed.atomic.state).toBe("unloaded");
    // The other model serves on, on both.
    expect((await complete(b, "steady")).status).toBe(200);
    expect((await complete(a, "steady")).status).toBe(200);
    // Bidding on the other gateway leaves it out.
    const auto = await b.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    expect(auto.status).toBe(200);
    const { decision } = await (await b.fetch(`/v1/executions/${auto.headers.get("x-atomic-execution-id")}`)).json();
    expect(decision.microtasks[0].bids.find((bid: { model: string }) => bid.model === "shared")).toMatchObject({ eligible: false, excludedBy: ["unavailable"] });
    // Applied there, but made here: one audit event, with who asked.
    await a.gateway.audit.sequencer.drain();
    const events = (await auditEvents(a.databaseUrl)).filter((event) => event.kind === "models.unloaded");
    expect(events).toEqual([expect.objectContaining({ model: expect.objectContaining({ id: "shared" }), actor: expect.objectContaining({ subject: expect.stringMatching(/^apikey:/) }) })]);
    // Unloading it again on the other gateway, where it is unloaded too, is a conflict.
    expect((await (await b.post("/v1/admin/models/shared/unload", {})).json()).error.code).toBe("model_not_hosted");
  });

  it("loaded again on the other gateway, is served again on the first", async () => {
    const loaded = await b.post("/v1/admin/models/shared/load", {});
    expect(loaded.status).toBe(200);
    expect(await loaded.json()).toMatchObject({ object: "model.load", id: "shared", state: "loading" });
    await until(async () => (await stateOn(a, "shared")) === "ready");
    expect((await complete(a, "shared")).status).toBe(200);
    await until(async () => (await stateOn(b, "shared")) === "ready");
    expect((await complete(b, "shared")).status).toBe(200);
  });

  it("stays unloaded across a restart: a gateway starting does not even load it", async () => {
    expect((await a.post("/v1/admin/models/shared/unload", {})).status).toBe(200);
    await b.close();
    b = await startTestGateway({ models, sameSiteAs: a, serviceStateRefreshMs: REFRESH_MS });
    expect(b.gateway.engine.isHosted("shared")).toBe(false);
    expect(await stateOn(b, "shared")).toBe("unloaded");
    const refused = await complete(b, "shared");
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe("model_unloaded");
    expect((await complete(b, "steady")).status).toBe(200);
    // No host was started for it: "steady" came up, "shared" did not.
    const ready = (id: string) => b.logs.some((line) => line["model"] === id && line["msg"] === "model ready");
    expect(ready("steady")).toBe(true);
    expect(ready("shared")).toBe(false);

    // Loaded on the restarted gateway: hosted there at once, and on the first within its refresh.
    expect((await b.post("/v1/admin/models/shared/load", {})).status).toBe(200);
    await until(async () => (await stateOn(b, "shared")) === "ready" && (await stateOn(a, "shared")) === "ready");
    expect((await complete(a, "shared")).status).toBe(200);
  });
});
