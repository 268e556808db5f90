import { execFileSync } from "node:child_process";
import { closeSync, openSync, renameSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestModel } from "../../src/models/test-model.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { until } from "../support/until.js";

/**
 * A pinned model file written into after its model host loaded it (the same inode, as `dd conv=notrunc` writes):
 * llama.cpp maps GGUF files by default, so such a write changed the weights being served, silently. The bytes written
 * are another generated model of the same size, so that the file stays a loadable GGUF and only its weights differ.
 */
const otherWeights = (size: number): Buffer => {
  const bytes = buildTestModel({ seed: 99 });
  expect(bytes.length).toBe(size);
  return bytes;
};

/** Writes `bytes` over the file from offset 0 through write(2), keeping its inode. */
function writeInPlace(path: string, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` over the file through a shared mapping from another process: inotify reports no such write. */
function writeThroughMapping(path: string, bytes: Buffer): void {
  const source = `${path}.source`;
  writeFileSync(source, bytes);
  execFileSync("python3", ["-c", "import mmap, sys\nf = open(sys.argv[1], 'r+b')\nm = mmap.mmap(f.fileno(), 0)\nm[:] = open(sys.argv[2], 'rb').read()\nm.close()", path, source]);
}

async function atomicOf(gw: TestGateway, id: string): Promise<Record<string, unknown>> {
  return (await (await gw.fetch(`/v1/models/${id}`)).json()).atomic;
}

async function embedding(gw: TestGateway, model: string): Promise<number[]> {
  const response = await gw.post("/v1/embeddings", { model, input: "the same words each time" });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()).data[0].embedding;
}

const fileChangedEvents = async (gw: TestGateway, id: string) =>
  (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "model.refused" && event.model?.id === id && event.outcome?.code === "model_file_changed");

describe("a pinned file written into after it loaded: weights read into memory (the default)", () => {
  let gw: TestGateway;
  let models: TestModels;

  beforeAll(async () => {
    models = writeTestModels([{ id: "steady", options: { seed: 11 } }, { id: "renamed", options: { seed: 12 } }, { id: "untouched", options: { seed: 13 } }]);
    gw = await startTestGateway({ models });
  });
  afterAll(async () => gw?.close());

  it("serves the verified weights on, and says the file no longer matches its pin", async () => {
    const path = models.pathOf("steady");
    const before = await embedding(gw, "steady");
    const inode = statSync(path).ino;
    writeInPlace(path, otherWeights(statSync(path).size));
    expect(statSync(path).ino).toBe(inode);
    // Right after the write, before the host can have noticed it: the weights it serves are the verified ones.
    expect(await embedding(gw, "steady")).toEqual(before);

    await until(async () => (await atomicOf(gw, "steady"))["reason_code"] === "model_file_changed", 10_000);
    const listed = await atomicOf(gw, "steady");
    expect(listed).toMatchObject({ state: "ready", reason: expect.stringContaining("its SHA-256 is now") });
    expect(listed["reason"]).toContain("the next load refuses the file");
    expect(await embedding(gw, "steady")).toEqual(before);

    const ready = await (await gw.fetch("/readyz")).json();
    expect(ready.models).toContainEqual({ id: "steady", state: "ready", reason_code: "model_file_changed" });
    expect(gw.logs.some((line) => line["model"] === "steady" && line["level"] === "error" && line["code"] === "model_file_changed")).toBe(true);
    await until(async () => (await fileChangedEvents(gw, "steady")).length === 1, 10_000);
    const metrics = await (await gw.fetch("/metrics")).text();
    expect(metrics).toMatch(/atomic_model_file_changes_total\{model="steady"\} 1/);
  });

  it("refuses the changed file at its next load", async () => {
    const host = gw.gateway.engine.host("steady");
    process.kill(host.pid!, "SIGKILL");
    await until(() => host.status().state === "failed", 20_000);
    expect(host.status()).toMatchObject({ reasonCode: "model_digest_mismatch" });
    const response = await gw.post("/v1/embeddings", { model: "steady", input: "x" });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("model_digest_mismatch");
  });

  it("notices another file renamed over the pinned path, which inotify does not report", async () => {
    const path = models.pathOf("renamed");
    const before = await embedding(gw, "renamed");
    writeFileSync(`${path}.new`, otherWeights(statSync(path).size));
    renameSync(`${path}.new`, path);
    await until(async () => (await atomicOf(gw, "renamed"))["reason_code"] === "model_file_changed", 10_000);
    expect(await atomicOf(gw, "renamed")).toMatchObject({ state: "ready", reason: expect.stringContaining("now names another file") });
    expect(await embedding(gw, "renamed")).toEqual(before);
    // The pinned bytes written back into the file that now has the name: the next load would take it, so all is well.
    writeInPlace(path, buildTestModel({ seed: 12 }));
    await until(async () => (await atomicOf(gw, "renamed"))["reason_code"] === undefined, 10_000);
  });

  it("hashes a file that was only touched, and finds nothing to report", async () => {
    const path = models.pathOf("untouched");
    const later = new Date(Date.now() + 5_000);
    utimesSync(path, later, later);
    await until(() => gw.logs.some((line) => line["model"] === "untouched" && line["msg"] === "model file changed, but its bytes are the pinned ones"), 10_000);
    expect((await atomicOf(gw, "untouched"))["reason_code"]).toBeUndefined();
    expect(await fileChangedEvents(gw, "untouched")).toEqual([]);
  });
});

describe("a pinned file written into after it loaded: models.mmap true (weights mapped from the file)", () => {
  let gw: TestGateway;
  let models: TestModels;

  beforeAll(async () => {
    models = writeTestModels([{ id: "mapped", options: { seed: 21 } }, { id: "remapped", options: { seed: 22 } }, { id: "touched", options: { seed: 23 } }]);
    gw = await startTestGateway({ models, mmap: true });
  });
  afterAll(async () => gw?.close());

  it("refuses the requests running on it at once, then verifies the file again and refuses its new bytes", async () => {
    const path = models.pathOf("mapped");
    const host = gw.gateway.engine.host("mapped");
    const running = gw.post("/v1/completions", { model: "mapped", prompt: "long", max_tokens: 3000, temperature: 1 });
    while (host.status().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    writeInPlace(path, otherWeights(statSync(path).size));
    const response = await running;
    expect(response.status).toBe(503);
    expect((await response.json()).error).toMatchObject({ code: "model_file_changed", message: expect.stringContaining("changed while its weights were mapped") });

    await until(() => host.status().state === "failed", 20_000);
    expect(host.status()).toMatchObject({ reasonCode: "model_digest_mismatch" });
    const after = await gw.post("/v1/completions", { model: "mapped", prompt: "hi", max_tokens: 4 });
    expect((await after.json()).error.code).toBe("model_digest_mismatch");
    await until(async () => (await fileChangedEvents(gw, "mapped")).length === 1, 10_000);
  });

  it("notices a write through another process's mapping, which inotify does not report", async () => {
    const path = models.pathOf("remapped");
    await embedding(gw, "remapped");
    const host = gw.gateway.engine.host("remapped");
    writeThroughMapping(path, otherWeights(statSync(path).size));
    await until(() => host.status().state === "failed", 20_000);
    expect(host.status()).toMatchObject({ reasonCode: "model_digest_mismatch" });
    expect(await fileChangedEvents(gw, "remapped")).toHaveLength(1);
  });

  it("serves again once a file that was only touched is verified again", async () => {
    const path = models.pathOf("touched");
    const before = await embedding(gw, "touched");
    const host = gw.gateway.engine.host("touched");
    const pid = host.pid;
    const later = new Date(Date.now() + 5_000);
    utimesSync(path, later, later);
    await until(() => host.pid !== pid && host.status().state === "ready", 20_000);
    expect(host.status().reasonCode).toBeUndefined();
    expect(await embedding(gw, "touched")).toEqual(before);
    const loaded = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "model.loaded" && event.model?.id === "touched");
    expect(loaded).toHaveLength(2);
  });
});
