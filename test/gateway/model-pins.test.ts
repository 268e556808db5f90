import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addModel } from "../../src/models/add-model.js";
import { loadManifest, saveManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";

/**
 * Models pinned while the gateway runs. The site's manifest is followed by the gateway itself; the installed
 * family's manifest is not, so a model added there shows what POST /v1/admin/models/reload does on its own.
 */
let gw: TestGateway;
let site: TestModels;
let family: TestModels;

beforeAll(async () => {
  site = writeTestModels([{ id: "tiny", capabilities: ["chat", "completion"] }]);
  family = writeTestModels([{ id: "fam-a", options: { seed: 2 }, capabilities: ["chat", "completion"] }]);
  gw = await startTestGateway({ models: site, catalog: { family: family.manifestPath, testModelWhenEmpty: false } });
});
afterAll(async () => gw?.close());

const modelState = async (id: string) => {
  const response = await gw.fetch(`/v1/models/${id}`);
  return response.status === 200 ? ((await response.json()).atomic.state as string) : `http ${response.status}`;
};
async function readyWithin(id: string, ms: number): Promise<string> {
  const deadline = performance.now() + ms;
  let state = await modelState(id);
  while (state !== "ready" && performance.now() < deadline) {
    await delay(100);
    state = await modelState(id);
  }
  return state;
}
const chat = (model: string) => gw.post("/v1/chat/completions", { model, messages: [{ role: "user", content: "hello" }], max_tokens: 2 });
const reload = (headers: Record<string, string> = {}) => gw.post("/v1/admin/models/reload", {}, headers);

describe("a model pinned while the gateway runs", () => {
  it("is served within seconds of `atomic models add`, named and bid for, without a restart", async () => {
    const file = join(site.dir, "later.gguf");
    writeFileSync(file, buildTestModel({ seed: 7 }));
    expect(await modelState("later")).toBe("http 404");
    await addModel({ manifestPath: site.manifestPath, file, id: "later", capabilities: ["chat", "completion"] });

    expect(await readyWithin("later", 10_000)).toBe("ready");
    const named = await chat("later");
    expect(named.status).toBe(200);
    expect((await named.json()).model).toBe("later");
    const listed = (await (await gw.fetch("/v1/models")).json()).data.map((model: { id: string }) => model.id);
    expect(listed).toEqual(expect.arrayContaining(["tiny", "fam-a", "later"]));
    expect((await chat("auto")).status).toBe(200);
  });

  it("is hosted at once on POST /v1/admin/models/reload, which says what it added, replaced and removed", async () => {
    const manifest = loadManifest(family.manifestPath);
    const file = join(family.dir, "fam-b.gguf");
    writeFileSync(file, buildTestModel({ seed: 8 }));
    await addModel({ manifestPath: family.manifestPath, file, id: "fam-b", capabilities: ["chat", "completion"] });
    expect(await modelState("fam-b")).toBe("http 404");

    const response = await reload();
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ object: "models.reload", replaced: [], removed: [], refused: [] });
    expect(body.added).toEqual([{ id: "fam-b", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), state: "loading" }]);
    expect(await readyWithin("fam-b", 10_000)).toBe("ready");
    expect((await chat("fam-b")).status).toBe(200);
    expect((await (await reload()).json()).added).toEqual([]);

    // A changed pin is loaded beside the served one; an unpinned model is unknown at once (test/gateway/model-live.test.ts).
    saveManifest(family.manifestPath, { ...manifest, models: manifest.models.map((model) => ({ ...model, parallel: 3 })) });
    const changed = await (await reload()).json();
    const famA = family.entries[0]!.sha256;
    expect(changed).toMatchObject({ added: [], replaced: [{ id: "fam-a", sha256: famA, previous_sha256: famA, state: "loading" }], removed: [{ id: "fam-b" }] });
    expect((await chat("fam-b")).status).toBe(404);
    expect((await chat("fam-a")).status).toBe(200);
  });

  it("refuses a manifest it cannot read, changing nothing, and is for admins only", async () => {
    const before = (await (await gw.fetch("/v1/models")).json()).data;
    writeFileSync(family.manifestPath, "{");
    const refused = await reload();
    expect(refused.status).toBe(422);
    expect((await refused.json()).error).toMatchObject({ type: "invalid_request_error", code: "manifest_invalid" });
    expect((await (await gw.fetch("/v1/models")).json()).data).toEqual(before);

    const infer = await gw.issueKey("default", ["infer"]);
    const forbidden = await reload({ authorization: `Bearer ${infer}` });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe("insufficient_scope");
  });

  it("audits each reload with who asked, and each new model's load", async () => {
    await gw.gateway.audit.sequencer.drain();
    const events = await auditEvents(gw.databaseUrl);
    const reloads = events.filter((event) => event.kind === "models.reloaded");
    expect(reloads.map((event) => event.outcome)).toEqual([{ status: "succeeded" }, { status: "succeeded" }, { status: "succeeded" }, { status: "refused", code: "manifest_invalid" }]);
    expect(reloads[0]!.actor).toMatchObject({ tenant: "default", subject: expect.stringMatching(/^apikey:/) });
    expect(reloads[0]!.detail).toMatchObject({ added: [{ id: "fam-b", sha256: expect.any(String) }], replaced: [], removed: [], refused: [] });
    const loaded = events.filter((event) => event.kind === "model.loaded").map((event) => event.model?.id);
    expect(loaded).toEqual(expect.arrayContaining(["tiny", "fam-a", "later", "fam-b"]));
  });
});
