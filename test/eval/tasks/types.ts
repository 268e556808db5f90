export type EvalKind = "sentiment" | "topic" | "extraction" | "arithmetic" | "capital" | "format";
/** The bidding features' task types (src/bidding/features.ts): what the routing table's task_type column takes. */
export type EvalTaskType = "classification" | "extraction" | "chat" | "structured";
export interface CheckResult {
  correct: boolean;
  /** What was compared, for the report: e.g. `expected "negative", got "positive"`. */
  detail: string;
}
export interface EvalItem {
  id: string; // stable across runs of the same seed, e.g. "sentiment-s1-007"
  kind: EvalKind;
  taskType: EvalTaskType;
  seed: number;
  split: "tune" | "holdout";
  /** Instruction-tuned models (capability "chat"): the messages of /v1/chat/completions. */
  messages: Array<{ role: "system" | "user" | "assistant"; content: string }>;
  /** Base models (capability "completion" only): a few-shot prompt for /v1/completions that ends where the answer starts, and its stop strings. */
  completion: { prompt: string; stop: string[] };
  /** Structured kinds: the JSON Schema of the answer, sent as response_format json_schema (chat) — the gateway constrains generation by grammar. Completion prompts stay free text for base models. */
  schema?: Record<string, unknown>;
  /**
   * Classification kinds, for embedding models: the text to classify and a short description per label; the
   * answer is the label whose description's embedding is nearest (cosine) to the text's.
   */
  nearest?: { text: string; labels: Readonly<Record<string, string>> };
  maxTokens: number;
  /** The label / value / fields a correct answer has, for the report and the JSON. */
  expected: unknown;
  check(answer: string): CheckResult;
}
export interface TaskSet {
  kind: EvalKind;
  description: string;
  generate(seed: number, count: number): EvalItem[];
}
