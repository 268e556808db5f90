import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest, saveManifest, type ModelEntry } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { until } from "../support/until.js";

/**
 * Models replaced, unpinned, unloaded and loaded on a running gateway. They are pinned in the installed family's
 * manifest, which the gateway does not follow: each change takes effect on POST /v1/admin/models/reload, when the
 * test says, not at the watcher's next look.
 */
let gw: TestGateway;
let family: TestModels;

beforeAll(async () => {
  family = writeTestModels([
    { id: "gone", parallel: 1, options: { seed: 3 }, capabilities: ["chat", "completion"] },
    { id: "swap", parallel: 1, options: { seed: 4 }, capabilities: ["chat", "completion"] },
  ]);
  gw = await startTestGateway({
    models: writeTestModels([]),
    catalog: { family: family.manifestPath, testModelWhenEmpty: false },
    inference: { maxTokensLimit: 100_000 },
  });
});
afterAll(async () => gw?.close());

const engine = () => gw.gateway.engine;
const reload = async () => (await gw.post("/v1/admin/models/reload", {})).json();
const complete = (model: string, maxTokens = 4) => gw.post("/v1/completions", { model, prompt: "go", max_tokens: maxTokens, temperature: 0 });
/** Hundreds of tokens: about a second of work on one thread, so it is still running when its model goes. */
const long = (model: string) => gw.post("/v1/completions", { model, prompt: "go", max_tokens: 800, temperature: 1 });
const described = async (id: string) => {
  const response = await gw.fetch(`/v1/models/${id}`);
  return response.status === 200 ? (await response.json()).atomic : { http: response.status };
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
function pin(change: (models: ModelEntry[]) => ModelEntry[]): void {
  const manifest = loadManifest(family.manifestPath);
  saveManifest(family.manifestPath, { ...manifest, models: change(manifest.models) });
}
/** A new file for `id` in the family's folder, pinned by the digest of `pinnedBytes` (the file's own by default). */
function repin(id: string, file: string, bytes: Buffer, pinnedBytes = bytes): string {
  writeFileSync(join(family.dir, file), bytes);
  const sha256 = createHash("sha256").update(pinnedBytes).digest("hex");
  pin((models) => models.map((m) => (m.id === id ? { ...m, file, sha256, sizeBytes: bytes.length } : m)));
  return sha256;
}
async function audited(kind: string) {
  await gw.gateway.audit.sequencer.drain();
  return (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === kind);
}

describe("an operator's unload and load", () => {
  it("cuts off what runs past the drain timeout, refuses new requests, and stays unloaded until loaded", async () => {
    const host = engine().host("gone");
    const pid = host.pid!;
    const running = long("gone");
    await until(() => host.status().inFlight === 1);

    const unloading = await gw.post("/v1/admin/models/gone/unload?drain_timeout_ms=0", {});
    expect(unloading.status).toBe(200);
    expect(await unloading.json()).toMatchObject({ object: "model.unload", id: "gone", state: "draining", in_flight: 1 });
    const cutOff = await running;
    expect(cutOff.status).toBe(503);
    expect((await cutOff.json()).error.code).toBe("model_drain_timeout");
    const refused = await complete("gone");
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe("model_unloaded");
    // Unlike a loading or overloaded model, retrying soon does not help: no Retry-After.
    expect(refused.headers.get("retry-after")).toBeNull();
    await until(async () => (await described("gone")).state === "unloaded" && !alive(pid));
    const auto = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    expect(auto.status).toBe(200);
    const { decision } = await (await gw.fetch(`/v1/executions/${auto.headers.get("x-atomic-execution-id")}`)).json();
    expect(decision.microtasks[0].bids.find((bid: { model: string }) => bid.model === "gone")).toMatchObject({ eligible: false, excludedBy: ["unavailable"] });

    // A reload leaves it unloaded; unloading it again, or loading what is hosted, is a conflict.
    expect(await reload()).toMatchObject({ added: [], replaced: [], removed: [] });
    expect((await described("gone")).state).toBe("unloaded");
    const again = await gw.post("/v1/admin/models/gone/unload", {});
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("model_not_hosted");

    const loading = await gw.post("/v1/admin/models/gone/load", {});
    expect(await loading.json()).toMatchObject({ object: "model.load", id: "gone", state: "loading" });
    await until(async () => (await described("gone")).state === "ready");
    expect((await complete("gone")).status).toBe(200);
    expect((await (await gw.post("/v1/admin/models/gone/load", {})).json()).error.code).toBe("model_already_hosted");
  });

  it("is for admins, validates the id, and is audited with who asked", async () => {
    const unknown = await gw.post("/v1/admin/models/nope/unload", {});
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("model_not_found");
    expect((await gw.post("/v1/admin/models/gone/unload?drain_timeout_ms=-1", {})).status).toBe(400);
    const infer = await gw.issueKey("default", ["infer"]);
    const forbidden = await gw.post("/v1/admin/models/gone/unload", {}, { authorization: `Bearer ${infer}` });
    expect(forbidden.status).toBe(403);

    const [unloaded] = await audited("models.unloaded");
    expect(unloaded).toMatchObject({ model: { id: "gone" }, actor: { tenant: "default", subject: expect.stringMatching(/^apikey:/) }, detail: { inFlight: 1, drainTimeoutMs: 0 } });
    expect((await audited("models.loaded")).map((event) => event.model?.id)).toEqual(["gone"]);
  });
});

describe("a model unpinned while it serves", () => {
  it("is unknown to new requests at once, finishes the request it runs, then its host stops", async () => {
    const host = engine().host("gone");
    const pid = host.pid!;
    const running = long("gone");
    await until(() => host.status().inFlight === 1);
    pin((models) => models.filter((m) => m.id !== "gone"));

    const body = await reload();
    expect(body).toMatchObject({ added: [], replaced: [], refused: [], removed: [{ id: "gone", sha256: family.entries[0]!.sha256, state: "draining" }] });
    const refused = await complete("gone");
    expect(refused.status).toBe(404);
    expect((await refused.json()).error).toMatchObject({ code: "model_not_found", param: "model" });
    expect(await described("gone")).toEqual({ http: 404 });
    expect((await described("auto")).candidates).toEqual(["swap"]);

    expect((await running).status).toBe(200);
    await until(() => engine().status("gone") === undefined && !alive(pid));
    const [removed] = await audited("models.removed");
    expect(removed).toMatchObject({ model: { id: "gone" }, outcome: { status: "succeeded" }, detail: { inFlight: 1 } });
  });
});

describe("a model whose pin changes", () => {
  let first: string;

  it("serves from the new file once it is loaded, without a request failing during the switch", async () => {
    const before = await (await complete("swap", 8)).json();
    const previous = family.entries[1]!.sha256;
    const oldPid = engine().host("swap").pid!;
    const sha256 = repin("swap", "swap-2.gguf", buildTestModel({ seed: 40 }));

    // One request after another all through the switch.
    let switching = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (switching) {
        statuses.push((await complete("swap")).status);
        await delay(20);
      }
    })();
    expect((await reload()).replaced).toEqual([{ id: "swap", sha256, previous_sha256: previous, state: "loading" }]);
    await until(async () => (await described("swap")).sha256 === sha256);
    await until(() => !alive(oldPid));
    switching = false;
    await traffic;
    expect(statuses.length).toBeGreaterThan(2);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    expect(await described("swap")).toMatchObject({ state: "ready", sha256 });
    const after = await (await complete("swap", 8)).json();
    expect(after.choices[0].text).not.toBe(before.choices[0].text);
    const [replaced] = await audited("models.replaced");
    expect(replaced).toMatchObject({ model: { id: "swap", sha256 }, outcome: { status: "succeeded" }, detail: { previousSha256: previous } });
    first = sha256;
  });

  it("keeps serving the old file when the new one does not match its pin, and says why", async () => {
    const sha256 = repin("swap", "swap-3.gguf", buildTestModel({ seed: 41 }), buildTestModel({ seed: 42 }));
    expect((await reload()).replaced).toEqual([{ id: "swap", sha256, previous_sha256: first, state: "loading" }]);
    await until(() => gw.logs.some((line) => line["model"] === "swap" && line["level"] === "warn" && line["code"] === "model_digest_mismatch"));
    const body = await reload();
    expect(body.replaced).toEqual([]);
    expect(body.refused).toEqual([{ id: "swap", sha256, code: "model_digest_mismatch", reason: expect.stringContaining("SHA-256") }]);

    expect(await described("swap")).toMatchObject({ state: "ready", sha256: first });
    expect((await complete("swap")).status).toBe(200);
    const refusals = (await audited("models.replaced")).filter((event) => event.outcome?.status === "refused");
    expect(refusals).toEqual([expect.objectContaining({ model: { id: "swap", sha256 }, outcome: { status: "refused", code: "model_digest_mismatch" }, detail: expect.objectContaining({ previousSha256: first }) })]);
  });
});
