import { closeSync, fstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManifestAdapterCatalog } from "../../src/adaptation/adapters/catalog.js";
import { AdapterFitService, type FitRequest } from "../../src/adaptation/adapters/fit-service.js";
import { FitError } from "../../src/adaptation/adapters/fit/fit-adapter.js";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import { loadCatalog } from "../../src/models/catalog.js";
import { loadManifest } from "../../src/models/manifest.js";
import { createLogger } from "../../src/observability/logger.js";
import { seededRng } from "../../src/util/rng.js";
import { writeTestModels, type TestModels } from "../support/models.js";

/**
 * A task a random-weight model cannot do but can be fitted to: the label of a short text is given by the colour
 * word somewhere in it. The base model's answer is noise; the adapter is fitted on the model's own hidden states.
 */
const LABELS = ["x", "y", "z"];
const CUES: Record<string, string> = { x: "red", y: "blue", z: "green" };
const FILLER = ["the", "a", "big", "small", "cat", "dog", "runs", "sits", "on", "mat"];
function examples(count: number, seed: number): FitRequest["examples"] {
  const random = seededRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = LABELS[i % LABELS.length]!;
    const words = Array.from({ length: 4 }, () => FILLER[Math.floor(random() * FILLER.length)]!);
    words.splice(Math.floor(random() * 5), 0, CUES[label]!);
    return { input: { kind: "completion", prompt: `Text: ${words.join(" ")}\nLabel:` }, label };
  });
}

let models: TestModels;
let engine: LlamaEngine;
let service: AdapterFitService;
const events: AuditEvent[] = [];

beforeAll(async () => {
  models = writeTestModels([{ id: "gen" }]);
  const catalog = loadCatalog({ manifestPath: models.manifestPath, dataDir: models.dir, testModelWhenEmpty: false });
  service = new AdapterFitService({ manifestPath: models.manifestPath, models: catalog, record: async (event) => void events.push(event) });
  engine = new LlamaEngine({ models: catalog, threads: 1, gpu: "cpu", contextSize: 512, maxQueue: 16, queueTimeoutMs: 30_000, logger: createLogger({ level: "warn" }) });
  await engine.start();
});
afterAll(async () => engine?.close());

const request: FitRequest = { baseModel: "gen", taskClass: "task:colour", labels: LABELS, examples: examples(90, 1) };
const LABEL_GRAMMAR = `root ::= ${LABELS.map((l) => JSON.stringify(l)).join(" | ")}`;

/** Accuracy of the model on fresh items through the model host, with the adapter the catalog names (or none). */
async function servedAccuracy(catalog: ManifestAdapterCatalog | null): Promise<number> {
  const items = examples(30, 99);
  const adapter = catalog?.current("gen", "task:colour", { tenant: "t", classification: "public" }) ?? null;
  let correct = 0;
  for (const item of items) {
    const result = await engine.generate("gen", item.input, { maxTokens: 2, temperature: 0, grammar: LABEL_GRAMMAR, ...(adapter ? { adapter } : {}) });
    if (result.text === item.label) correct++;
  }
  return correct / items.length;
}

describe("fitting an adapter at inference time", () => {
  it("fits one that beats the base model on its held-back slice, pins and promotes it, and audits both", async () => {
    const outcome = await service.fit(request);
    expect(outcome.result.accuracy.candidate).toBeGreaterThan(outcome.result.accuracy.base + 0.3);
    expect(outcome).toMatchObject({ promoted: true, adapter: { id: "gen.task-colour.v1", status: "promoted", version: 1 } });
    expect(outcome.result.target).toBe("blk.1.ffn_down.weight");
    expect(outcome.result.timings.fitMs).toBeLessThan(2000);
    expect(events.map((e) => e.kind)).toEqual(["adapter.fitted", "adapter.promoted"]);
    expect(events[0]!.detail).toMatchObject({ adapter: "gen.task-colour.v1", sha256: outcome.adapter.sha256, examples: 90, heldBack: outcome.result.counts.heldBack });
    expect(events[1]!.detail).toMatchObject({ reason: "canary", previous: null });
    expect(JSON.stringify(events)).not.toContain("Text:");
  });

  it("makes the model host answer the task when the catalog serves it", async () => {
    const catalog = new ManifestAdapterCatalog({ manifestPath: models.manifestPath, servedModels: ["gen"] });
    expect(catalog.current("gen", "task:colour", { tenant: "t", classification: "public" })?.id).toBe("gen.task-colour.v1");
    expect(catalog.current("gen", "task:other", { tenant: "t", classification: "public" })).toBeNull();
    const base = await servedAccuracy(null);
    const adapted = await servedAccuracy(catalog);
    expect(adapted).toBeGreaterThanOrEqual(0.9);
    expect(adapted - base).toBeGreaterThanOrEqual(0.4);
  });

  it("pins a worse fit as a candidate and keeps the current adapter", async () => {
    events.length = 0;
    // No optimisation steps: the candidate is the base model again, which the current adapter beats.
    const outcome = await service.fit({ ...request, probe: { steps: 0 } });
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision).toMatch(/^not promoted/);
    expect(outcome.result.accuracy.current).toBeGreaterThan(outcome.result.accuracy.candidate);
    expect(events.map((e) => e.kind)).toEqual(["adapter.fitted"]);
    const statuses = Object.fromEntries((loadManifest(models.manifestPath).adapters ?? []).map((a) => [a.id, a.status]));
    expect(statuses).toEqual({ "gen.task-colour.v1": "promoted", "gen.task-colour.v2": "candidate" });
  });

  it("writes no adapter when its base model file is written into during the fit", async () => {
    const own = writeTestModels([{ id: "gen" }]);
    const file = own.pathOf("gen");
    const fitted: AuditEvent[] = [];
    const fitting = new AdapterFitService({ manifestPath: own.manifestPath, models: loadCatalog({ manifestPath: own.manifestPath, dataDir: own.dir, testModelWhenEmpty: false }), record: async (event) => void fitted.push(event) });
    const fit = fitting.fit(request);
    const outcome = fit.then(() => "fitted", (error: FitError) => error.code);
    // Once the fitting process has the file open and has hashed it (milliseconds for this model, against the
    // seconds its fit takes), one byte near its end is changed in place: same inode, the weights' bytes.
    while (!(await openedByAnotherProcess(file))) await delay(20);
    await delay(300);
    const fd = openSync(file, "r+");
    const last = fstatSync(fd).size - 1;
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, last);
    writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, last);
    closeSync(fd);
    // Hashed before the write, the fit ends refusing the changed file (on a machine slow enough to hash after it,
    // the digest does not match): either way no adapter is pinned nor any event recorded.
    expect(await outcome).toMatch(/^model_(file_changed|digest_mismatch)$/);
    expect(loadManifest(own.manifestPath).adapters ?? []).toEqual([]);
    expect(fitted).toEqual([]);
  });

  it("refuses to fit on too few examples or labels that are not the examples'", async () => {
    await expect(service.fit({ ...request, examples: examples(6, 2) })).rejects.toMatchObject({ code: "fit_too_few_examples" });
    await expect(service.fit({ ...request, labels: ["x", "y"] })).rejects.toBeInstanceOf(FitError);
  });
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process other than this one holds `path` open (Linux: its descriptors under /proc). */
async function openedByAnotherProcess(path: string): Promise<boolean> {
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) return true;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return false;
}
