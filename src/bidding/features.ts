import { EMPTY_CONTENT, type ContentFeaturizer, type ContentVector } from "./content/interface.js";
import { countItems } from "./items.js";
import type { BiddingRequest } from "./request.js";

/**
 * Task features: what the learner conditions on. Computed per request in microseconds, so every scan is bounded
 * (a prompt may be a megabyte): cues are read from the head of the text, the script from a sample.
 */

export const TASK_TYPES = ["chat", "completion", "structured", "extraction", "classification", "summarization"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Upper bounds (estimated tokens) of the input-length buckets; the last bucket is open. */
export const LENGTH_BUCKETS = [64, 256, 1024, 4096] as const;

/**
 * Bumped whenever the vector's layout changes: learned state is tied to a layout, and state saved under another
 * one is discarded on load rather than misread. 2: content features (./content/) next to the structural vector.
 */
export const FEATURE_VERSION = 2;

// Vector layout: [bias, task type one-hot ×6, log input length, schema size, schema depth, non-ASCII share, item
// count, JSON output], each scaled to about [0, 1]. The task type is one-hot because kinds of work differ in level,
// not along a scale. Length is one log-scaled number rather than a one-hot of buckets: success changes smoothly with
// length, and with one-hot buckets a single early failure in a rarely seen bucket sank a model there for good (its
// own coefficient, learned from one observation), which the replay bench showed as models never retried.
const TYPE_OFFSET = 1;
const LOG_LENGTH = TYPE_OFFSET + TASK_TYPES.length;
const SCHEMA_SIZE = LOG_LENGTH + 1;
const SCHEMA_DEPTH = SCHEMA_SIZE + 1;
const NON_ASCII = SCHEMA_DEPTH + 1;
const ITEMS = NON_ASCII + 1;
const JSON_OUTPUT = ITEMS + 1;
export const FEATURE_DIM = JSON_OUTPUT + 1;

export interface TaskFeatures {
  taskType: TaskType;
  /** Estimated prompt tokens (text, instructions and history): a rough count, no tokenizer is run. */
  inputTokens: number;
  /** Index into LENGTH_BUCKETS (LENGTH_BUCKETS.length for the open bucket). */
  lengthBucket: number;
  /** Properties declared anywhere in the output schema (0 without one). */
  schemaProperties: number;
  /** Nesting depth of objects and arrays in the output schema (0 without one). */
  schemaDepth: number;
  /** Share of non-ASCII characters in a sample of the text: a cheap stand-in for language and script. */
  nonAsciiShare: number;
  /** Enumerated items or sections in the text. */
  items: number;
  /** The output must be JSON (a schema or json_object). */
  json: boolean;
  /** Discrete context: type, length bucket, schema size class and script, e.g. "structured:L2:S2:ascii". */
  key: string;
  /** Fixed-length numeric vector (FEATURE_DIM) for the learner: the request's shape. */
  vector: Float64Array;
  /** What the request says, as the configured content featurizer reads it (empty without one). */
  content: ContentVector;
}

/** A request's features as a learner takes them: its shape, and its content where a featurizer read it. */
export type LearnerInput = Pick<TaskFeatures, "vector" | "content">;

/** Turns a request into features; the router's, with its content featurizer. */
export type FeatureExtractor = (request: BiddingRequest) => TaskFeatures;

/** The raw values features are built from; the replay bench supplies them directly from its table. */
export interface FeatureValues {
  taskType: TaskType;
  inputTokens: number;
  schemaProperties?: number;
  schemaDepth?: number;
  nonAsciiShare?: number;
  items?: number;
  json?: boolean;
}

const SCRIPT_SAMPLE = 2048;
const CUE_SCAN = 512;
/** Walking a schema stops after this many nodes: a huge schema is simply "complex". */
const SCHEMA_NODE_LIMIT = 512;

export function extractFeatures(request: BiddingRequest, content?: ContentFeaturizer): TaskFeatures {
  const nonAsciiShare = nonAsciiShareOf(request.text);
  const chars = request.text.length + (request.instructions?.length ?? 0) + (request.historyChars ?? 0);
  const schema = request.schema === undefined ? undefined : schemaShape(request.schema);
  return featuresFromValues({
    taskType: taskTypeOf(request),
    inputTokens: estimateTokens(chars, nonAsciiShare),
    schemaProperties: schema?.properties ?? 0,
    schemaDepth: schema?.depth ?? 0,
    nonAsciiShare,
    items: countItems(request.text),
    json: request.schema !== undefined || request.jsonObject === true,
  }, content === undefined ? EMPTY_CONTENT : content.featurize(request));
}

export function featuresFromValues(values: FeatureValues, content: ContentVector = EMPTY_CONTENT): TaskFeatures {
  const inputTokens = Math.max(0, Math.round(values.inputTokens));
  const schemaProperties = values.schemaProperties ?? 0;
  const schemaDepth = values.schemaDepth ?? 0;
  const nonAsciiShare = clamp01(values.nonAsciiShare ?? 0);
  const items = values.items ?? 0;
  const json = values.json ?? (values.taskType === "structured" || schemaProperties > 0);
  const lengthBucket = lengthBucketOf(inputTokens);

  const vector = new Float64Array(FEATURE_DIM);
  vector[0] = 1;
  vector[TYPE_OFFSET + TASK_TYPES.indexOf(values.taskType)] = 1;
  vector[LOG_LENGTH] = Math.min(1, Math.log2(1 + inputTokens) / 16);
  vector[SCHEMA_SIZE] = Math.min(1, Math.log2(1 + schemaProperties) / 6);
  vector[SCHEMA_DEPTH] = Math.min(1, schemaDepth / 6);
  vector[NON_ASCII] = nonAsciiShare;
  vector[ITEMS] = Math.min(1, Math.log2(1 + items) / 4);
  vector[JSON_OUTPUT] = json ? 1 : 0;

  return {
    taskType: values.taskType,
    inputTokens,
    lengthBucket,
    schemaProperties,
    schemaDepth,
    nonAsciiShare,
    items,
    json,
    key: `${values.taskType}:L${lengthBucket}:S${schemaClass(schemaProperties)}:${scriptOf(nonAsciiShare)}`,
    vector,
    content,
  };
}

/**
 * Roughly 4 characters per token for ASCII text and 1.5 for other scripts (CJK is near 1, accented Latin near
 * 3): close enough to rank costs and latencies, and no tokenizer needs to be loaded to bid.
 */
export function estimateTokens(chars: number, nonAsciiShare: number): number {
  return Math.ceil(chars * ((1 - nonAsciiShare) / 4 + nonAsciiShare / 1.5));
}

function lengthBucketOf(tokens: number): number {
  for (let i = 0; i < LENGTH_BUCKETS.length; i++) if (tokens <= LENGTH_BUCKETS[i]!) return i;
  return LENGTH_BUCKETS.length;
}

function schemaClass(properties: number): number {
  if (properties === 0) return 0;
  if (properties <= 4) return 1;
  if (properties <= 16) return 2;
  return 3;
}

function scriptOf(share: number): "ascii" | "mixed" | "other" {
  if (share < 0.05) return "ascii";
  return share < 0.5 ? "mixed" : "other";
}

function nonAsciiShareOf(text: string): number {
  const n = Math.min(text.length, SCRIPT_SAMPLE);
  if (n === 0) return 0;
  let other = 0;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) > 127) other++;
  return other / n;
}

const CLASSIFY = /\b(?:classify|classification|categori[sz]e|which category|label (?:the|this|each)|sentiment)\b/i;
const SUMMARIZE = /\b(?:summari[sz]e|summary|tl;dr)\b/i;
const EXTRACT = /\bextract\b/i;

/**
 * Cue words in the head of the instructions and text decide among the kinds of work that look alike on the wire;
 * a schema whose answer is one enum is a classification whatever the words say.
 */
function taskTypeOf(request: BiddingRequest): TaskType {
  const cues = `${(request.instructions ?? "").slice(0, CUE_SCAN)}\n${request.text.slice(0, CUE_SCAN)}`;
  if (request.schema !== undefined && isEnumAnswer(request.schema)) return "classification";
  if (CLASSIFY.test(cues)) return "classification";
  if (EXTRACT.test(cues)) return "extraction";
  if (SUMMARIZE.test(cues)) return "summarization";
  if (request.schema !== undefined || request.jsonObject === true) return "structured";
  if (request.kind === "completion") return "completion";
  return "chat";
}

/** An enum at the top, or an object with at most two properties one of which is an enum. */
function isEnumAnswer(schema: Record<string, unknown>): boolean {
  if (Array.isArray(schema.enum)) return true;
  const properties = schema.properties;
  if (!isRecord(properties)) return false;
  const values = Object.values(properties);
  return values.length > 0 && values.length <= 2 && values.some((p) => isRecord(p) && Array.isArray(p.enum));
}

interface SchemaShape {
  properties: number;
  depth: number;
}

/**
 * Counts declared properties and nesting through properties, items and combinators; bounded. Definitions count
 * where they are declared ($ref is not followed: a recursive schema would never end, and a rough figure will do).
 */
export function schemaShape(schema: Record<string, unknown>): SchemaShape {
  const shape = { properties: 0, depth: 0 };
  let budget = SCHEMA_NODE_LIMIT;
  const walk = (node: unknown, depth: number): void => {
    if (!isRecord(node) || budget-- <= 0) return;
    const properties = node.properties;
    const nested = isRecord(properties) || node.items !== undefined;
    if (nested && depth + 1 > shape.depth) shape.depth = depth + 1;
    if (isRecord(properties)) {
      for (const key in properties) {
        shape.properties++;
        walk(properties[key], depth + 1);
      }
    }
    if (Array.isArray(node.items)) for (const item of node.items) walk(item, depth + 1);
    else walk(node.items, depth + 1);
    for (const keyword of ["anyOf", "oneOf", "allOf"] as const) {
      const branches = node[keyword];
      if (Array.isArray(branches)) for (const branch of branches) walk(branch, depth);
    }
    const defs = node.$defs ?? node.definitions;
    if (isRecord(defs)) for (const key in defs) walk(defs[key], depth);
  };
  walk(schema, 0);
  return shape;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
