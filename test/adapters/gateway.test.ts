import { appendFileSync, copyFileSync, writeFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAdapter } from "../../src/models/adapters/add-adapter.js";
import { loadManifest, saveManifest } from "../../src/models/manifest.js";
import { asciiToken, tokenAdapter } from "../support/adapters.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";

let gw: TestGateway;
let models: TestModels;

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  // Promoted for two task classes of the generated model: one makes "Z" certain, the other's file is tampered
  // with after it was pinned.
  const pin = async (name: string, letter: string, task: string) => {
    const file = join(models.dir, `${name}.gguf`);
    writeFileSync(file, tokenAdapter(asciiToken(letter), 8));
    await addAdapter({ manifestPath: models.manifestPath, file, baseModel: { id: "gen", path: models.pathOf("gen") }, taskClass: task });
    return file;
  };
  await pin("zeds", "Z", "task:zeds");
  appendFileSync(await pin("tampered", "W", "task:tampered"), Buffer.from([0]));
  gw = await startTestGateway({ models });
});
afterAll(async () => gw?.close());

const complete = (task: string, adaptation: unknown) =>
  gw.post("/v1/completions", { model: "gen", prompt: "The weather today is", max_tokens: 6, temperature: 0, atomic_task: task, atomic_adaptation: adaptation });

describe("a LoRA adapter applied end to end through the gateway", () => {
  it("changes the output in the known way when the plan applies the task class's adapter, and names it in the record", async () => {
    const plain = await complete("zeds", "off");
    expect(plain.status).toBe(200);
    expect((await plain.json()).choices[0].text).not.toBe("ZZZZZZ");
    const adapted = await complete("zeds", { strategies: ["adapter"] });
    expect(adapted.status).toBe(200);
    expect((await adapted.json()).choices[0].text).toBe("ZZZZZZ");
    const execution = await (await gw.fetch(`/v1/executions/${adapted.headers.get("x-atomic-execution-id")}`)).json();
    expect(JSON.stringify(execution)).toContain("gen.task-zeds.v1");
  });

  it("refuses a tampered adapter before loading it", async () => {
    const response = await complete("tampered", { strategies: ["adapter"] });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect((await response.json()).error.code).toBe("adapter_digest_mismatch");
    expect((await complete("zeds", { strategies: ["adapter"] })).status).toBe(200);
  });

  it("serves the adapters of a model pinned while the gateway runs", async () => {
    // The generated model again under another id: the same tensors, so the same adapter fits it.
    copyFileSync(models.pathOf("gen"), join(models.dir, "later.gguf"));
    const manifest = loadManifest(models.manifestPath);
    saveManifest(models.manifestPath, { ...manifest, models: [...manifest.models, { ...manifest.models[0]!, id: "later", file: "later.gguf" }] });
    expect((await (await gw.post("/v1/admin/models/reload", {})).json()).added).toEqual([expect.objectContaining({ id: "later" })]);
    for (let state = ""; state !== "ready"; await delay(100)) state = (await (await gw.fetch("/v1/models/later")).json()).atomic.state;
    const file = join(models.dir, "later-zeds.gguf");
    writeFileSync(file, tokenAdapter(asciiToken("Z"), 8));
    await addAdapter({ manifestPath: models.manifestPath, file, baseModel: { id: "later", path: models.pathOf("later") }, taskClass: "task:zeds" });
    // The adapter catalog follows the manifest within about a second.
    let text = "";
    for (let tries = 0; text !== "ZZZZZZ" && tries < 100; tries++, await delay(100)) {
      const answer = await gw.post("/v1/completions", { model: "later", prompt: "The weather today is", max_tokens: 6, temperature: 0, atomic_task: "zeds", atomic_adaptation: { strategies: ["adapter"] } });
      text = (await answer.json()).choices[0].text;
    }
    expect(text).toBe("ZZZZZZ");
  });
});
