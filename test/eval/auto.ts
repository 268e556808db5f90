/**
 * `npm run eval -- --auto ENGINES`: the same items again, each sent once with `model: "auto"`, so that bidding picks
 * the model and learns online from the harness's verdicts (sent back as `POST /v1/feedback`, as a site's own checks
 * or raters would). Each engine starts from an empty learner in a database of its own. Items arrive in one seeded
 * shuffle (kinds mixed, as traffic is), the same for every engine.
 *
 * Every candidate answers the same request as the fixed choices it is compared with: the few-shot completion
 * prompt on /v1/completions, the one request every generation model of the family takes (the base model has no
 * chat template), so in an --auto run the per-model pass uses it too. Inference-time adaptation is off in the
 * engines' gateways: it learns from the same verdicts, and would otherwise be measured along with the routing.
 */
import pg from "pg";
import type { ModelEntry } from "../../src/models/manifest.js";
import { seededRng } from "../../src/util/rng.js";
import { withDatabase } from "../support/database-url.js";
import type { EvalItem, EvalKind } from "./tasks/types.js";

export interface AutoEngine {
  /** As given on the command line: "linucb", "logistic-ts" (hashed n-grams) or "logistic-ts:embedding". */
  label: string;
  bidding: { policy: "linucb" | "logistic-ts"; features: "none" | "hashed" | "embedding" };
}

export function parseEngines(text: string): AutoEngine[] {
  return text.split(",").map((raw) => {
    const label = raw.trim();
    const [policy, features] = label.split(":");
    if (policy === "linucb" && features === undefined) return { label, bidding: { policy, features: "none" } };
    if (policy === "logistic-ts" && (features === undefined || features === "hashed" || features === "embedding")) {
      return { label, bidding: { policy, features: features ?? "hashed" } };
    }
    throw new Error(`--auto takes linucb, logistic-ts, logistic-ts:hashed or logistic-ts:embedding, comma-separated; got ${label}`);
  });
}

/** What the per-model pass and the auto pass both record of one answer. */
export interface AutoOutcome {
  item: string;
  kind: EvalKind;
  model: string;
  correct: boolean;
  cost: number;
}

interface Gateway {
  url: string;
  key: string;
}

/** A database of its own on the eval's server, so each engine starts from an empty learner. */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return withDatabase(serverUrl, name);
}

export function shuffledItems(items: readonly EvalItem[], seed: number): EvalItem[] {
  const order = [...items];
  const rng = seededRng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Sends every item with model "auto", checks the answer and feeds the verdict back; in the order given. */
export async function autoPass(gateway: Gateway, items: readonly EvalItem[], models: readonly ModelEntry[], progress: (correct: boolean) => void): Promise<AutoOutcome[]> {
  const byId = new Map(models.map((m) => [m.id, m]));
  const headers = { "content-type": "application/json", authorization: `Bearer ${gateway.key}` };
  const outcomes: AutoOutcome[] = [];
  for (const item of items) {
    const response = await fetch(`${gateway.url}/v1/completions`, {
      method: "POST", headers,
      body: JSON.stringify({ model: "auto", prompt: item.completion.prompt, stop: item.completion.stop, max_tokens: item.maxTokens, temperature: 0, seed: item.seed }),
    });
    const json = (await response.json()) as { model?: string; choices?: Array<{ text: string }>; usage?: { prompt_tokens: number; completion_tokens: number }; error?: { code: string } };
    if (!response.ok || json.model === undefined) throw new Error(`model "auto" answered ${response.status} ${json.error?.code ?? ""} for ${item.id}`);
    const verdict = item.check(json.choices?.[0]?.text ?? "");
    const model = byId.get(json.model);
    if (model === undefined) throw new Error(`model "auto" chose ${json.model}, which the eval did not pin`);
    const cost = ((json.usage?.prompt_tokens ?? 0) * model.cost.per1kPromptTokens + (json.usage?.completion_tokens ?? 0) * model.cost.per1kCompletionTokens) / 1000;
    const executionId = response.headers.get("x-atomic-execution-id");
    if (executionId === null) throw new Error(`no execution id for ${item.id}`);
    const feedback = await fetch(`${gateway.url}/v1/feedback`, { method: "POST", headers, body: JSON.stringify({ execution_id: executionId, score: verdict.correct ? 1 : 0 }) });
    if (!feedback.ok) throw new Error(`feedback for ${item.id} answered ${feedback.status}: ${await feedback.text()}`);
    outcomes.push({ item: item.id, kind: item.kind, model: json.model, correct: verdict.correct, cost });
    progress(verdict.correct);
  }
  return outcomes;
}

interface Figures {
  accuracy: number;
  cost: number;
}

/**
 * The engines against the fixed choices on the same items: always each model, random (the mean of the models, what
 * a uniform pick gives in expectation), the best fixed model per kind in hindsight, and the per-item oracle. Cost is
 * the manifest's compute-seconds for the tokens each answer used. Also the second half of the stream alone: what
 * the engine does once it has learned.
 */
export function printAutoReport(fixed: readonly AutoOutcome[], engines: ReadonlyArray<{ label: string; outcomes: AutoOutcome[] }>, order: readonly EvalItem[], candidates: readonly string[]): Array<Record<string, unknown>> {
  const outcome = new Map(fixed.map((o) => [`${o.model}\u0000${o.item}`, o]));
  const of = (model: string, item: string) => outcome.get(`${model}\u0000${item}`);
  const half = new Set(order.slice(Math.floor(order.length / 2)).map((item) => item.id));
  const kinds = [...new Set(order.map((item) => item.kind))];
  const figures = (choose: (item: EvalItem) => AutoOutcome | undefined, only?: Set<string>): Figures => {
    const chosen = order.filter((item) => only === undefined || only.has(item.id)).map(choose).filter((o): o is AutoOutcome => o !== undefined);
    return { accuracy: chosen.filter((o) => o.correct).length / chosen.length, cost: chosen.reduce((sum, o) => sum + o.cost, 0) / chosen.length };
  };
  const bestPerKind = new Map(kinds.map((kind) => {
    const items = order.filter((item) => item.kind === kind);
    const accuracy = (model: string) => items.filter((item) => of(model, item.id)?.correct).length;
    return [kind, [...candidates].sort((a, b) => accuracy(b) - accuracy(a))[0]!];
  }));
  const mean = (parts: Figures[]): Figures => ({ accuracy: avg(parts.map((p) => p.accuracy)), cost: avg(parts.map((p) => p.cost)) });
  const rows: Array<{ label: string; all: Figures; late: Figures; shares?: string }> = [
    ...candidates.map((model) => ({ label: `always ${model}`, all: figures((item) => of(model, item.id)), late: figures((item) => of(model, item.id), half) })),
    { label: "random", all: mean(candidates.map((m) => figures((item) => of(m, item.id)))), late: mean(candidates.map((m) => figures((item) => of(m, item.id), half))) },
    { label: "best per kind (hindsight)", all: figures((item) => of(bestPerKind.get(item.kind)!, item.id)), late: figures((item) => of(bestPerKind.get(item.kind)!, item.id), half) },
    { label: "oracle (per item)", all: figures((item) => oracle(candidates.map((m) => of(m, item.id)))), late: figures((item) => oracle(candidates.map((m) => of(m, item.id))), half) },
  ];
  for (const engine of engines) {
    const byItem = new Map(engine.outcomes.map((o) => [o.item, o]));
    const shares = kinds.map((kind) => {
      const picks = engine.outcomes.filter((o) => o.kind === kind && half.has(o.item));
      return `${kind} ${candidates.map((m) => `${Math.round((100 * picks.filter((o) => o.model === m).length) / Math.max(1, picks.length))}`).join("/")}`;
    });
    rows.push({ label: `auto: ${engine.label}`, all: figures((item) => byItem.get(item.id)), late: figures((item) => byItem.get(item.id), half), shares: shares.join(", ") });
  }
  console.log(`\nmodel "auto", learning online from the verdicts (${order.length} items, one shuffle; candidates ${candidates.join(", ")})`);
  console.log(`${"".padEnd(34)}${"accuracy".padStart(9)}${"cost/item".padStart(11)}   second half: ${"accuracy".padStart(8)}${"cost/item".padStart(11)}`);
  for (const row of rows) {
    console.log(`${row.label.padEnd(34)}${pctOf(row.all.accuracy).padStart(9)}${row.all.cost.toFixed(3).padStart(11)}   ${"".padStart(13)}${pctOf(row.late.accuracy).padStart(8)}${row.late.cost.toFixed(3).padStart(11)}`);
    if (row.shares !== undefined) console.log(`${"".padEnd(4)}its picks in the second half, % per candidate by kind: ${row.shares}`);
  }
  console.log(`cost: compute-seconds per item by the manifest's cost profiles; best per kind: ${kinds.map((k) => `${k} ${bestPerKind.get(k)}`).join(", ")}`);
  return rows.map((row) => ({ label: row.label, accuracy: row.all.accuracy, cost: row.all.cost, lateAccuracy: row.late.accuracy, lateCost: row.late.cost, ...(row.shares === undefined ? {} : { lateShares: row.shares }) }));
}

/** The cheapest correct answer, else the cheapest. */
function oracle(answers: Array<AutoOutcome | undefined>): AutoOutcome | undefined {
  const present = answers.filter((o): o is AutoOutcome => o !== undefined).sort((a, b) => a.cost - b.cost);
  return present.find((o) => o.correct) ?? present[0];
}

function avg(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function pctOf(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
