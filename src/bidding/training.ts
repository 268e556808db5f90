import { createHash } from "node:crypto";
import type { BiddingRouter, TrainingExample } from "./router.js";

/**
 * Warm start from a site's own history: an outcome table — one row per (prompt, model): prompt text, model, score
 * 0…1 (or success), and optionally cost, latency and tokens — taught to the learner as if each row had been an
 * execution's outcome. Used by `atomic bidding train FILE` (a stopped gateway) and POST /v1/admin/bidding/train (a
 * running one). What is audited is what data it was (the file's SHA-256, never its content), how many rows, and
 * the learner version that resulted.
 */
export interface OutcomeRow {
  prompt: string;
  model: string;
  /** 0…1. */
  score: number;
  latencyMs?: number;
  promptTokens?: number;
  completionTokens?: number;
}

export interface TrainingSummary {
  /** SHA-256 (hex) of the table as given. */
  sha256: string;
  rows: number;
  learned: number;
  /** The learner version the training was saved as. */
  version: number;
  /** Per model, rows learned. */
  models: Record<string, number>;
}

export class OutcomeTableError extends Error {
  override readonly name = "OutcomeTableError";
}

/** Bounds what one training call reads: a table this large is a mistake or an attack, not a history. */
export const MAX_TABLE_ROWS = 1_000_000;

/**
 * Reads CSV (a header row; RFC 4180 quoting) or JSONL (one object per line), chosen by the first character. Rows
 * need `prompt` (or `text`), `model`, and `score` or `success`; `latency_ms`, `input_tokens`/`prompt_tokens` and
 * `output_tokens`/`completion_tokens` are used when present (the routing bench's table format is accepted as is).
 */
export function parseOutcomeTable(text: string): OutcomeRow[] {
  const trimmed = text.trimStart();
  const records = trimmed.startsWith("{") ? parseJsonl(trimmed) : parseCsv(trimmed);
  if (records.length > MAX_TABLE_ROWS) throw new OutcomeTableError(`the table has more than ${MAX_TABLE_ROWS} rows`);
  return records.map((record, i) => {
    const line = i + (trimmed.startsWith("{") ? 1 : 2);
    const prompt = record.prompt ?? record.text;
    const model = record.model;
    if (typeof prompt !== "string" || typeof model !== "string" || model === "") throw new OutcomeTableError(`row ${line}: prompt and model are required`);
    const score = record.score !== undefined && record.score !== "" ? Number(record.score) : successOf(record.success);
    if (!(score >= 0 && score <= 1)) throw new OutcomeTableError(`row ${line}: score must be from 0 to 1 (or give success: 1/0 or true/false)`);
    const row: OutcomeRow = { prompt, model, score };
    const latency = numberOf(record.latency_ms);
    const promptTokens = numberOf(record.input_tokens ?? record.prompt_tokens);
    const completionTokens = numberOf(record.output_tokens ?? record.completion_tokens);
    if (latency !== undefined && promptTokens !== undefined && completionTokens !== undefined) {
      row.latencyMs = latency;
      row.promptTokens = promptTokens;
      row.completionTokens = completionTokens;
    }
    return row;
  });
}

/** Trains the router on a table (its bytes as given) and saves the result as the learner's next version. */
export async function trainFromTable(router: BiddingRouter, table: string | Buffer): Promise<TrainingSummary> {
  const text = typeof table === "string" ? table : table.toString("utf8");
  const rows = parseOutcomeTable(text);
  const models: Record<string, number> = {};
  const examples = rows.map((row): TrainingExample => {
    models[row.model] = (models[row.model] ?? 0) + 1;
    return {
      request: { kind: "task", text: row.prompt },
      modelId: row.model,
      score: row.score,
      ...(row.latencyMs === undefined ? {} : { usage: { promptTokens: row.promptTokens!, completionTokens: row.completionTokens!, latencyMs: row.latencyMs } }),
    };
  });
  const learned = await router.train(examples);
  return { sha256: createHash("sha256").update(table).digest("hex"), rows: rows.length, learned, version: router.state().version, models };
}

/**
 * A success flag as tables write it: a JSON boolean or 1/0, or in CSV 1/0 or true/false in any case (pandas writes
 * True/False). Anything else is NaN, for the caller to refuse: a flag misread as a failure would teach silently.
 */
export function successOf(value: unknown): number {
  if (value === true || value === 1) return 1;
  if (value === false || value === 0) return 0;
  if (typeof value !== "string") return Number.NaN;
  const text = value.trim().toLowerCase();
  if (text === "1" || text === "true") return 1;
  if (text === "0" || text === "false") return 0;
  return Number.NaN;
}

function numberOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** One JSON object a line (blank lines skipped). */
export function parseJsonl(text: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new OutcomeTableError(`line ${i + 1}: not JSON`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new OutcomeTableError(`line ${i + 1}: not a JSON object`);
    rows.push(value as Record<string, unknown>);
  }
  return rows;
}

/**
 * A header row, then records; fields separated by commas, double-quoted where they hold commas, quotes or newlines.
 * Names and values are trimmed.
 */
export function parseCsv(text: string): Array<Record<string, unknown>> {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      field = "";
      if (record.some((v) => v !== "")) records.push(record);
      record = [];
    } else field += c;
  }
  record.push(field);
  if (record.some((v) => v !== "")) records.push(record);
  const [header, ...rows] = records;
  if (header === undefined) return [];
  return rows.map((values) => Object.fromEntries(header.map((name, i) => [name.trim(), values[i]?.trim() ?? ""])));
}
