import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

let gw: TestGateway;

beforeAll(async () => {
  const models = writeTestModels([
    { id: "good" }, { id: "tampered", options: { seed: 2 } }, { id: "malformed", options: { seed: 3 } }, { id: "fifo", options: { seed: 4 } }, { id: "device", options: { seed: 5 } },
  ]);
  // Tampered: one byte appended after pinning. Malformed: pinned with its true digest, but missing a
  // hyper-parameter that makes llama.cpp abort the process it runs in.
  appendFileSync(models.pathOf("tampered"), Buffer.from([0]));
  const malformed = buildTestModel({ seed: 3, omitKeys: ["llama.feed_forward_length"] });
  writeFileSync(models.pathOf("malformed"), malformed);
  const manifest = JSON.parse(readFileSync(models.manifestPath, "utf8"));
  const entry = manifest.models.find((m: { id: string }) => m.id === "malformed");
  entry.sha256 = (await import("node:crypto")).createHash("sha256").update(malformed).digest("hex");
  entry.sizeBytes = malformed.length;
  // Pinned paths that are no files: a FIFO (opening it waited for a writer forever) and a device that never ends
  // (hashing /dev/zero ran forever): either kept the gateway from ever listening.
  rmSync(models.pathOf("fifo"));
  execFileSync("mkfifo", [models.pathOf("fifo")]);
  manifest.models.find((m: { id: string }) => m.id === "device").file = "/dev/zero";
  saveManifest(models.manifestPath, manifest);
  gw = await startTestGateway({ models, inference: { queueTimeoutMs: 10_000 } });
});
afterAll(async () => gw?.close());

const ask = (model: string) => gw.post(`/v1/completions`, { model, prompt: "hi", max_tokens: 4 });

describe("model integrity", () => {
  it("refuses a model whose file no longer matches its pinned digest, and says why", async () => {
    const listed = (await (await gw.fetch(`/v1/models/tampered`)).json()).atomic;
    expect(listed).toMatchObject({ state: "failed", reason_code: "model_digest_mismatch" });
    const response = await ask("tampered");
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("model_digest_mismatch");
  });

  it("refuses a malformed GGUF without taking the gateway down", async () => {
    const listed = (await (await gw.fetch(`/v1/models/malformed`)).json()).atomic;
    expect(listed).toMatchObject({ state: "failed", reason_code: "model_malformed" });
    expect(listed.reason).toContain("llama.feed_forward_length");
    expect((await ask("malformed")).status).toBe(503);
  });

  it("refuses a pinned path that is a FIFO or a device, rather than waiting on it for ever", async () => {
    for (const id of ["fifo", "device"]) {
      const listed = (await (await gw.fetch(`/v1/models/${id}`)).json()).atomic;
      expect(listed, id).toMatchObject({ state: "failed", reason_code: "model_malformed", reason: expect.stringContaining("is not a regular file") });
    }
  });

  it("keeps serving the good model and reports ready", async () => {
    expect((await ask("good")).status).toBe(200);
    const ready = await (await gw.fetch(`/readyz`)).json();
    expect(ready.status).toBe("ready");
    expect(ready.models).toEqual(expect.arrayContaining([
      { id: "good", state: "ready" },
      { id: "tampered", state: "failed", reason_code: "model_digest_mismatch" },
    ]));
  });

  it("restarts a model host that is killed mid-request and serves again", async () => {
    const host = gw.gateway.engine.host("good");
    const pid = host.pid!;
    const inFlight = gw.post(`/v1/completions`, { model: "good", prompt: "long", max_tokens: 3000, temperature: 1 });
    while (host.status().inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    process.kill(pid, "SIGKILL");
    const response = await inFlight;
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("model_crashed");
    await host.whenSettled();
    expect(host.pid).not.toBe(pid);
    expect(host.status().state).toBe("ready");
    expect((await ask("good")).status).toBe(200);
  });
});
