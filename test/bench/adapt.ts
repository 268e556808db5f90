/**
 * `npm run bench:adapt`: what inference-time adaptation buys on real models (issue 15), through the gateway.
 *
 * Per model and task kind of the evaluation sets (test/eval/tasks), with the kind as the request's `atomic_task`:
 *   1. tune: the tune seeds' items, with adaptation on ("auto": the learner explores), each answer checked and rated
 *      through POST /v1/feedback (1 right; 0 wrong, with the right label as its `correction`, as a reviewer would).
 *      Every rated item becomes an example exemplars and fits draw on, and every rating teaches the learner which
 *      strategies and sampling parameters pay for the class;
 *   2. the learner is frozen (POST /v1/admin/adaptation/freeze): what it learned is applied, nothing more is learned;
 *   3. held out: the holdout seeds' items (vocabulary tune items never use), under each condition —
 *        unadapted              atomic_adaptation "off": the request as sent, the operator's defaults (temperature 0.7)
 *        unadapted, temp 0      the same at temperature 0: the setting of `npm run eval`, for reference
 *        exemplars              only the tenant's rated examples in the prompt (atomic_adaptation {strategies})
 *        learned parameters     only the learned sampling preset and max_tokens
 *        schema instructions    only the schema written into the prompt (kinds with a schema, chat models)
 *        learned combination    "auto" with the learner frozen: the strategies and parameters it settled on
 *        fitted adapter         fitted through POST /v1/admin/adaptation/fits on the 25/50/100/200 most recently rated
 *                               examples (label-like kinds, as many as the tune phase rated), applied alone, and
 *                               with the answer held to its labels (strategies adapter + labels)
 *      accuracy, mean prompt tokens (what the strategies cost) and p50 latency;
 *   4. where an adapter was fitted: the tune items once more with the learner unfrozen (the adapter is now a strategy
 *      it can choose), frozen again, and the learned combination on the held-out items again.
 * Then, in process: analysis + planning per request (the analyzer, task type included) and the exemplar ranking.
 * Targets: on label-like kinds (sentiment, topic) the learned combination ≥ 20 points over unadapted from ≤ 100
 * rated examples; analysis + plan ≤ 0.2 ms. Printed, never asserted.
 *
 *   npm run bench:adapt -- [--models a,b] [--kinds topic,sentiment] [--tune N] [--holdout N] [--out DIR] [--structured]
 *
 * --structured: chat models answer the label-like kinds as JSON, `{"<kind>": "<label>"}` under a response_format
 * json_schema whose one property is a string `enum` of the kind's labels; right or wrong is that field's value, and
 * raters correct the whole object. Fits then find the label at that field (its value's position in the answer),
 * and the held-out items run unadapted and with each fitted adapter only (the labels strategy holds free text, not
 * JSON, and the learned combination is left out to keep the run short).
 *
 * --tune / --holdout: items per seed (tune seeds 1–3, holdout seeds 101–103); defaults 33 and 20, so at most 99
 * rated examples. BENCH_SMOKE=1: the generated test model, one kind, two items per seed (npm test runs it so).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { LearnedContextAnalyzer } from "../../src/adaptation/analyzer.js";
import { noAdapters } from "../../src/adaptation/adapters/interface.js";
import { LexicalSimilarity } from "../../src/adaptation/exemplars/similarity.js";
import { AdaptationLearner } from "../../src/adaptation/learner.js";
import type { AdaptationRequest } from "../../src/adaptation/strategies.js";
import { extractFeatures } from "../../src/bidding/features.js";
import { biddingRequestOf } from "../../src/pipeline/routing.js";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { promoteAdapter } from "../../src/models/adapters/registry.js";
import { loadManifest, modelFilePath, saveManifest, type ModelEntry } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { createLogger } from "../../src/observability/logger.js";
import { seededRng } from "../../src/util/rng.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { until } from "../support/until.js";
import { DEFAULT_HOLDOUT_SEEDS, DEFAULT_TUNE_SEEDS, generateEvalItems } from "../eval/tasks/index.js";
import type { EvalItem, EvalKind } from "../eval/tasks/types.js";
import { percentile, round } from "./stats.js";

const SMOKE = process.env.BENCH_SMOKE === "1";
const TEST_MODEL = "atomic-test-random";
const LABEL_KINDS: readonly EvalKind[] = ["sentiment", "topic"];

const ADAPTER_EXAMPLES = [25, 50, 100, 200] as const;

interface Condition {
  name: string;
  adaptation: AdaptationRequest;
  temperature?: number;
  /** Only for items with a schema, asked of a chat model. */
  needsSchema?: boolean;
}

const CONDITIONS: readonly Condition[] = [
  { name: "unadapted", adaptation: "off" },
  { name: "unadapted, temp 0", adaptation: "off", temperature: 0 },
  { name: "exemplars", adaptation: { strategies: ["exemplars"] } },
  { name: "learned parameters", adaptation: { strategies: ["parameters"] } },
  { name: "schema instructions", adaptation: { strategies: ["schema_instructions"] }, needsSchema: true },
  { name: "learned combination", adaptation: "auto" },
];

interface Answer {
  correct: boolean;
  promptTokens: number;
  latencyMs: number;
  executionId: string;
}

function parse() {
  const { values } = parseArgs({
    options: {
      models: { type: "string" },
      kinds: { type: "string" },
      tune: { type: "string", default: SMOKE ? "2" : "33" },
      holdout: { type: "string", default: SMOKE ? "2" : "20" },
      out: { type: "string", default: "eval-results" },
      structured: { type: "boolean", default: false },
    },
  });
  const tune = Number(values.tune);
  const holdout = Number(values.holdout);
  if (!Number.isInteger(tune) || tune < 1 || !Number.isInteger(holdout) || holdout < 1) throw new Error("--tune and --holdout are positive integers");
  const kinds = (values.kinds?.split(",").map((k) => k.trim()) ?? (SMOKE ? ["topic"] : ["topic", "sentiment"])) as EvalKind[];
  const models = values.models?.split(",").map((m) => m.trim()) ?? (SMOKE ? [TEST_MODEL] : ["smollm2-135m-instruct", "gemma3-270m"]);
  return { tune, holdout, kinds, models, out: resolve(values.out), structured: values.structured };
}

/** The installed family and the generated model, one request at a time per model (latency per item, not under load). */
function manifestOf(dir: string, wanted: string[]): ModelEntry[] {
  const installedPath = resolve(process.env.ATOMIC_MODELS_HOME ?? ".tools/models", "manifest.json");
  const installed = SMOKE ? [] : loadManifest(installedPath).models.map((m) => ({ ...m, file: modelFilePath(installedPath, m) }));
  const bytes = buildTestModel({ seed: 1 });
  writeFileSync(join(dir, `${TEST_MODEL}.gguf`), bytes);
  const generated: ModelEntry = {
    id: TEST_MODEL, file: `${TEST_MODEL}.gguf`, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, contextLength: 4096,
    capabilities: ["chat", "completion"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.02, per1kCompletionTokens: 0.5 }, parallel: 1,
  };
  const all = [...installed, generated];
  const missing = wanted.filter((id) => !all.some((m) => m.id === id));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(", ")} (installed: ${all.map((m) => m.id).join(", ")})`);
  const models = wanted.map((id) => ({ ...all.find((m) => m.id === id)!, parallel: 1 }));
  saveManifest(join(dir, "manifest.json"), { version: 1, models });
  return models;
}

class Client {
  constructor(private readonly url: string, private readonly key: string) {}

  async post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const response = await fetch(`${this.url}${path}`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${this.key}` }, body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
  }

  async get(path: string): Promise<Record<string, unknown>> {
    return (await (await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.key}` } })).json()) as Record<string, unknown>;
  }
}

/** One item as `npm run eval` asks it (chat form for chat models, few-shot completion for base models), plus the label. */
async function ask(client: Client, model: ModelEntry, item: EvalItem, task: string, adaptation: AdaptationRequest, temperature?: number): Promise<Answer> {
  const chat = model.capabilities.includes("chat");
  const labelled = chat ? structuredLabels.get(item.kind) : undefined;
  // A JSON answer is longer than the label alone; its grammar bounds it.
  const common = { model: model.id, ...(labelled === undefined ? { max_tokens: item.maxTokens } : {}), seed: item.seed, atomic_task: task, atomic_adaptation: adaptation, ...(temperature === undefined ? {} : { temperature }) };
  const schema = labelled === undefined ? item.schema : labelSchema(item.kind, labelled);
  const body = chat
    ? { ...common, messages: item.messages, ...(schema ? { response_format: { type: "json_schema", json_schema: { name: item.kind, schema } } } : {}) }
    : { ...common, prompt: item.completion.prompt, stop: item.completion.stop };
  const started = performance.now();
  const response = await client.post(chat ? "/v1/chat/completions" : "/v1/completions", body);
  const latencyMs = performance.now() - started;
  const choices = response.json.choices as Array<{ text?: string; message?: { content: string } }> | undefined;
  const text = chat ? choices?.[0]?.message?.content ?? "" : choices?.[0]?.text ?? "";
  const usage = response.json.usage as { prompt_tokens: number } | undefined;
  return {
    correct: response.status === 200 && item.check(labelled === undefined ? text : String((JSON.parse(text) as Record<string, unknown>)[item.kind])).correct,
    promptTokens: usage?.prompt_tokens ?? 0,
    latencyMs,
    executionId: response.headers.get("x-atomic-execution-id") ?? "",
  };
}

/** --structured: the labels of each label-like kind that chat models answer as JSON, by kind. */
const structuredLabels = new Map<EvalKind, string[]>();

/** The JSON answer of a label-like kind under --structured: one property, the kind, a string enum of its labels. */
function labelSchema(kind: EvalKind, labels: readonly string[]): Record<string, unknown> {
  return { type: "object", properties: { [kind]: { type: "string", enum: labels } }, required: [kind] };
}

/**
 * Fits an adapter for the class from its `examples` most recently rated executions through the admin route, waits
 * for it, and has it promoted whatever its canary said (the bench measures every count; a site keeps the canary's
 * verdict). Null when the fit was refused or failed (too few examples of a label, a model fitting does not support).
 */
async function fitThroughGateway(client: Client, manifestPath: string, model: string, taskClass: string, labels: string[], examples: number): Promise<Record<string, unknown> | null> {
  const started = await client.post("/v1/admin/adaptation/fits", { model, task_class: taskClass, labels, max_examples: examples });
  if (started.status !== 202) {
    process.stderr.write(`fit ${model} ${taskClass} ${examples}: refused (${JSON.stringify((started.json.error as { code?: string } | undefined)?.code)})\n`);
    return null;
  }
  for (;;) {
    const job = await client.get(`/v1/admin/adaptation/fits/${started.json.id as string}`);
    if (job.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (job.status !== "succeeded") {
      // A refusal of the model or the examples (an architecture fitting does not support, a tampered file) is a
      // result to print, as a refused start is; the other kinds and models go on.
      process.stderr.write(`fit ${model} ${taskClass} ${examples}: failed (${JSON.stringify(job.error)})\n`);
      return null;
    }
    const adapter = job.adapter as { id: string };
    const accuracy = job.accuracy as { base: number; candidate: number };
    const timings = job.timings_ms as { forward_passes: number; fit: number };
    if (!job.promoted) promoteAdapter(manifestPath, adapter.id);
    // The gateway follows the manifest by polling it every second; the next requests need the adapter served.
    await until(async () => {
      const state = await client.get(`/v1/admin/adaptation?task_class=${encodeURIComponent(taskClass)}`);
      const models = (state.classes as Array<{ models: Array<{ model: string; adapter: { id: string } | null }> }>)[0]?.models ?? [];
      return models.some((m) => m.model === model && m.adapter?.id === adapter.id);
    });
    return { adapter: adapter.id, promoted: job.promoted, base: accuracy.base, candidate: accuracy.candidate, forwardMs: timings.forward_passes, fitMs: timings.fit };
  }
}

/** Each model learns each kind under a label of its own, so that one model's rated answers are not another's exemplars. */
function taskOf(model: ModelEntry, kind: EvalKind): string {
  return `${kind}.${model.id}`;
}

interface Row {
  model: string;
  kind: EvalKind;
  condition: string;
  items: number;
  accuracy: number | null;
  promptTokensMean: number | null;
  latencyMsP50: number | null;
}

function summarise(model: string, kind: EvalKind, condition: string, answers: Answer[]): Row {
  const n = answers.length;
  return {
    model, kind, condition, items: n,
    accuracy: n === 0 ? null : round(answers.filter((a) => a.correct).length / n, 4),
    promptTokensMean: n === 0 ? null : round(answers.reduce((s, a) => s + a.promptTokens, 0) / n, 1),
    latencyMsP50: n === 0 ? null : round(percentile(answers.map((a) => a.latencyMs), 50), 1),
  };
}

/**
 * Analysis and planning as the adapt step runs them per request, and ranking 200 exemplar candidates; a tenth of
 * the iterations in the smoke run, which only has to reach the end.
 */
function overhead(items: EvalItem[]): { analysisUs: number; rankingMs: number } {
  const scale = SMOKE ? 0.1 : 1;
  const learner = new AdaptationLearner(10_000);
  for (let c = 0; c < 1000; c++) {
    for (let f = 0; f < 3; f++) learner.countFeedback(`tenant-${c % 10}`, `task:class-${c}`, true);
    learner.learn({ tenant: `tenant-${c % 10}`, taskClass: `task:class-${c}`, modelId: "m", eligible: ["exemplars", "parameters"], applied: ["exemplars", "parameters"], preset: "greedy" }, 1, 1);
  }
  const analyzer = new LearnedContextAnalyzer(learner, noAdapters, { minFeedback: 1, exemplars: { maxCount: 4, maxPromptTokens: 512 }, maxAddedLatencyMs: null }, seededRng(1), () => false);
  const requests = items.map((item) => biddingRequestOf({ kind: "chat", messages: item.messages }, {}));
  const plan = (i: number) => {
    const request = requests[i % requests.length]!;
    const features = extractFeatures(request);
    return analyzer.analyze({
      tenant: `tenant-${i % 10}`, classification: "internal", endpoint: "chat.completions", taskType: features.taskType, declaredTask: `class-${i % 1000}`, schema: null, modelId: "m",
      contextTokens: 4096, inputTokens: features.inputTokens, maxTokens: 16, structured: null, schemaShown: false, requested: "auto", expectedLatencyMs: null,
    });
  };
  for (let i = 0; i < 2000 * scale; i++) plan(i);
  const n = 20_000 * scale;
  let started = performance.now();
  for (let i = 0; i < n; i++) plan(i);
  const analysisUs = ((performance.now() - started) / n) * 1000;

  const similarity = new LexicalSimilarity();
  const candidates = items.slice(0, 200).map((item, i) => ({ id: String(i), text: item.messages.at(-1)!.content }));
  similarity.scores("warm", candidates);
  started = performance.now();
  for (let i = 0; i < 50; i++) similarity.scores(items[i % items.length]!.messages.at(-1)!.content, candidates);
  return { analysisUs, rankingMs: (performance.now() - started) / 50 };
}

async function main(): Promise<void> {
  const options = parse();
  const dir = mkdtempSync(join(tmpdir(), "atomic-adapt-"));
  const models = manifestOf(dir, options.models);
  const database = await startTestDatabaseServer();
  const config = ConfigSchema.parse({
    server: { port: 0 }, dataDir: join(dir, "data"), database: { url: database.url },
    models: { manifest: join(dir, "manifest.json"), family: "", testModelWhenEmpty: false },
    inference: { threads: 1, gpu: "cpu", queueTimeoutMs: 600_000 },
    egress: { selfTest: { mode: "off" } }, temporal: { enabled: false }, log: { level: "silent" },
    // Every rating counts from the first: the tune phase is short.
    adaptation: { minFeedback: 1 },
  });
  const gateway = await startGateway(config, createLogger({ level: "silent" }));
  const client = new Client(gateway.url, readFileSync(join(dir, "data", ADMIN_KEY_FILE), "utf8").trim());
  const tuneItems = (kind: EvalKind) => generateEvalItems({ seeds: DEFAULT_TUNE_SEEDS, perKind: options.tune, kinds: [kind] });
  const holdoutItems = (kind: EvalKind) => generateEvalItems({ seeds: DEFAULT_HOLDOUT_SEEDS, perKind: options.holdout, kinds: [kind] });
  if (options.structured) {
    for (const kind of options.kinds.filter((k) => LABEL_KINDS.includes(k))) {
      structuredLabels.set(kind, [...new Set([...tuneItems(kind), ...holdoutItems(kind)].map((item) => String(item.expected)))].sort());
    }
  }
  console.log(`atomic bench:adapt — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, 1 llama.cpp thread per model, node ${process.version}`);
  console.log(`models ${models.map((m) => m.id).join(", ")}; kinds ${options.kinds.join(", ")}${options.structured ? " (label-like kinds answered as JSON with an enum field)" : ""}; tune seeds ${DEFAULT_TUNE_SEEDS.join(", ")} × ${options.tune}, holdout seeds ${DEFAULT_HOLDOUT_SEEDS.join(", ")} × ${options.holdout}`);

  const rows: Row[] = [];
  const plans: Array<Record<string, unknown>> = [];
  const fits: Array<Record<string, unknown>> = [];
  const rated = new Map<string, number>();
  const started = performance.now();
  try {
    // Every (model, kind) learns under its own task label, rated as it goes.
    const tune = async (model: ModelEntry, kind: EvalKind, phase: string) => {
      process.stderr.write(`${phase} ${model.id} ${kind}: `);
      let right = 0;
      for (const item of tuneItems(kind)) {
        const answer = await ask(client, model, item, taskOf(model, kind), "auto");
        // A wrong answer is rated 0 with the right label as its correction, as a reviewer would: it then teaches
        // with the right answer (exemplars, fitting); the model's own right answers teach as they are.
        const correction = answer.correct || typeof item.expected !== "string" ? {} : { correction: structuredLabels.has(kind) && model.capabilities.includes("chat") ? { [kind]: item.expected } : item.expected };
        await client.post("/v1/feedback", { execution_id: answer.executionId, score: answer.correct ? 1 : 0, ...correction });
        if (answer.correct) right++;
        process.stderr.write(answer.correct ? "+" : ".");
      }
      process.stderr.write(` ${right} right of ${tuneItems(kind).length} rated\n`);
    };
    // 1. Tune.
    for (const model of models) {
      for (const kind of options.kinds) {
        await tune(model, kind, "tune");
        rated.set(`${model.id}/${kind}`, tuneItems(kind).length);
      }
    }
    // 2. Freeze: apply what was learned, learn nothing from the held-out items.
    await client.post("/v1/admin/adaptation/freeze", {});
    // 3. Held out, every condition.
    for (const model of models) {
      const chat = model.capabilities.includes("chat");
      for (const kind of options.kinds) {
        const items = holdoutItems(kind);
        const task = taskOf(model, kind);
        const state = await client.get(`/v1/admin/adaptation?task_class=${encodeURIComponent(`task:${task}`)}`);
        const learned = ((state.classes as Array<{ models: Array<Record<string, unknown>> }>)[0]?.models ?? []).find((m) => m.model === model.id);
        plans.push({ model: model.id, kind, rated: rated.get(`${model.id}/${kind}`), strategies: learned?.strategies ?? [], preset: learned?.preset ?? null, maxTokens: learned?.max_tokens ?? null });
        for (const condition of CONDITIONS) {
          if (structuredLabels.has(kind) && chat && !condition.name.startsWith("unadapted")) continue;
          if (condition.needsSchema && (!chat || items.every((item) => item.schema === undefined))) continue;
          process.stderr.write(`holdout ${model.id} ${kind} ${condition.name}: `);
          const answers: Answer[] = [];
          for (const item of items) {
            const answer = await ask(client, model, item, task, condition.adaptation, condition.temperature);
            answers.push(answer);
            process.stderr.write(answer.correct ? "+" : ".");
          }
          process.stderr.write("\n");
          rows.push(summarise(model.id, kind, condition.name, answers));
        }
        for (const examples of ADAPTER_EXAMPLES) {
          const condition = `fitted adapter (${examples} rated)`;
          const fit = examples <= (rated.get(`${model.id}/${kind}`) ?? 0) && LABEL_KINDS.includes(kind) ? await fitThroughGateway(client, config.models.manifest, model.id, `task:${task}`, [...new Set(items.map((item) => String(item.expected)))].sort(), examples) : null;
          if (fit === null) {
            for (const name of [condition, `${condition} + labels`]) rows.push({ model: model.id, kind, condition: name, items: 0, accuracy: null, promptTokensMean: null, latencyMsP50: null });
            continue;
          }
          fits.push({ model: model.id, kind, examples, ...fit });
          // Alone, then with the answer held to the adapter's labels (the labels strategy).
          for (const [name, strategies] of [[condition, ["adapter"]], [`${condition} + labels`, ["adapter", "labels"]]] as const) {
            // The labels strategy holds free text; a JSON answer keeps its own grammar.
            if (strategies.length > 1 && structuredLabels.has(kind) && chat) continue;
            process.stderr.write(`holdout ${model.id} ${kind} ${name}: `);
            const answers: Answer[] = [];
            for (const item of items) {
              const answer = await ask(client, model, item, task, { strategies: [...strategies] });
              answers.push(answer);
              process.stderr.write(answer.correct ? "+" : ".");
            }
            process.stderr.write("\n");
            rows.push(summarise(model.id, kind, name, answers));
          }
        }
        // 4. With an adapter in service the plan has one more strategy to learn: the tune items once more, learning,
        // then the learned combination again (the adapter of the last fit serves the class).
        if (fits.some((fit) => fit.model === model.id && fit.kind === kind) && !(structuredLabels.has(kind) && chat)) {
          await client.post("/v1/admin/adaptation/unfreeze", {});
          await tune(model, kind, "retune with the adapter");
          await client.post("/v1/admin/adaptation/freeze", {});
          process.stderr.write(`holdout ${model.id} ${kind} learned combination, after the fit: `);
          const answers: Answer[] = [];
          for (const item of items) {
            const answer = await ask(client, model, item, task, "auto");
            answers.push(answer);
            process.stderr.write(answer.correct ? "+" : ".");
          }
          process.stderr.write("\n");
          rows.push(summarise(model.id, kind, "learned combination, after the fit", answers));
        }
      }
    }
  } finally {
    await gateway.close();
    await database.stop();
  }

  const pct = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)} %`);
  console.log(`\n${"model".padEnd(24)}${"kind".padEnd(12)}${"condition".padEnd(38)}${"accuracy".padStart(9)}${"Δ".padStart(8)}${"prompt tok".padStart(12)}${"p50 ms".padStart(9)}`);
  for (const row of rows) {
    const base = rows.find((r) => r.model === row.model && r.kind === row.kind && r.condition === "unadapted")?.accuracy ?? null;
    const delta = row.accuracy === null || base === null || row.condition === "unadapted" ? "" : `${row.accuracy >= base ? "+" : ""}${Math.round((row.accuracy - base) * 100)}`;
    console.log(`${row.model.padEnd(24)}${row.kind.padEnd(12)}${row.condition.padEnd(38)}${pct(row.accuracy).padStart(9)}${delta.padStart(8)}${(row.promptTokensMean === null ? "—" : String(Math.round(row.promptTokensMean))).padStart(12)}${(row.latencyMsP50 === null ? "—" : String(Math.round(row.latencyMsP50))).padStart(9)}`);
  }
  console.log("\nlearned plans (frozen after tuning):");
  for (const plan of plans) console.log(`  ${String(plan.model).padEnd(24)}${String(plan.kind).padEnd(12)}${String(plan.rated).padStart(3)} rated examples → strategies [${(plan.strategies as string[]).join(", ")}], preset ${String(plan.preset)}, max_tokens ${String(plan.maxTokens)}`);
  for (const kind of options.kinds.filter((k) => LABEL_KINDS.includes(k))) {
    for (const model of models) {
      const of = (condition: string) => rows.find((r) => r.model === model.id && r.kind === kind && r.condition === condition)?.accuracy ?? null;
      const base = of("unadapted");
      // What the learner applies on its own: after the fit where there was one.
      const learned = of("learned combination, after the fit") ?? of("learned combination");
      if (base !== null && learned !== null) console.log(`target (label-like, ≥ +20 points from ≤ 100 rated, learned combination): ${model.id} ${kind} ${pct(base)} → ${pct(learned)} (${learned - base >= 0.2 ? "met" : "missed"})`);
    }
  }
  console.log("\nfits (POST /v1/admin/adaptation/fits, from the tenant's most recently rated examples; canary on a held-back fifth):");
  for (const fit of fits) console.log(`  ${String(fit.model).padEnd(24)}${String(fit.kind).padEnd(12)}${String(fit.examples).padStart(4)} rated → ${String(fit.adapter)}: held back ${pct(fit.base as number)} base → ${pct(fit.candidate as number)}, ${fit.promoted ? "promoted" : "not promoted"}; forward passes ${round((fit.forwardMs as number) / 1000, 1)} s, fit ${fit.fitMs} ms`);
  const { analysisUs, rankingMs } = overhead(generateEvalItems({ seeds: DEFAULT_TUNE_SEEDS, perKind: 70, kinds: ["sentiment", "topic", "extraction"] }));
  console.log(`\noverhead per request: analysis + plan ${round(analysisUs, 1)} µs (target ≤ 200 µs, task type from the bidding features included); ranking 200 exemplar candidates ${round(rankingMs, 2)} ms`);

  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `adapt-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify({
    run: { at: new Date().toISOString(), structured: options.structured, machine: `${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}`, threads: 1, tuneSeeds: DEFAULT_TUNE_SEEDS, holdoutSeeds: DEFAULT_HOLDOUT_SEEDS, tunePerSeed: options.tune, holdoutPerSeed: options.holdout, wallSeconds: round((performance.now() - started) / 1000, 1) },
    models: models.map((m) => ({ id: m.id, sha256: m.sha256 })),
    rows, plans, fits, overhead: { analysisUs: round(analysisUs, 2), rankingMs: round(rankingMs, 3) },
  }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exit(1);
});
