import { extractFeatures, type FeatureExtractor, type TaskFeatures } from "./features.js";
import { findItems } from "./items.js";
import type { BiddingRequest } from "./request.js";

/**
 * Turns a request into a small DAG of microtasks. Rules only: each planner recognises one shape of request and
 * proposes a plan; the first that applies wins, and a request none recognises stays one microtask. A model-driven
 * planner (a plan generated under a JSON-schema grammar) would be asynchronous: it runs before bidding and hands its
 * validated plan to the router (RouteRequest.plan), so this synchronous interface needs no change for it.
 */

export type MicrotaskKind = "whole" | "item" | "part" | "assemble";

export interface Microtask {
  /** Unique within its plan: "task" for a single step, "item-1", "part-2", "assemble". */
  id: string;
  kind: MicrotaskKind;
  /** "model": bid on and run by a model. "local": a deterministic merge the gateway does itself, never bid on. */
  executor: "model" | "local";
  /** What the model reads for this microtask (empty for local steps, which read their predecessors' outputs). */
  input: string;
  /** The output schema of this microtask: the request's, or the part of it this microtask fills. */
  schema?: Record<string, unknown>;
  /** For parts: the request schema's top-level properties this microtask's object carries. */
  fills?: readonly string[];
  /** Microtasks whose outputs this one needs; it starts when all of them have finished. */
  dependsOn: readonly string[];
  /** True when it may run at the same time as its siblings (no dependency between them). */
  parallel: boolean;
  /** Features of this microtask's own input; null for local steps. */
  features: TaskFeatures | null;
}

export interface TaskPlan {
  /** The planner that produced it: "single", "items", "schema-parts", or another planner's name. */
  planner: string;
  microtasks: Microtask[];
}

export interface Planner {
  readonly name: string;
  /** Cheap test on features already computed; no allocation, so requests no planner fits cost nothing more. */
  applies(request: BiddingRequest, features: TaskFeatures): boolean;
  /** The plan, or null when a closer look finds the request does not fit after all; `extract` features microtasks. */
  plan(request: BiddingRequest, features: TaskFeatures, extract: FeatureExtractor): TaskPlan | null;
}

export interface DecomposerOptions {
  /** More items than this are left whole: that many parallel calls cost more than they save. Default 8. */
  maxItems?: number;
  /** Items shorter than this (characters) mean the list is formatting, not separate work. Default 12. */
  minItemChars?: number;
  /** Schemas with fewer properties are not worth splitting. Default 6. */
  minSchemaProperties?: number;
  /** Most parts a schema is split into. Default 8. */
  maxParts?: number;
}

/** Shared by every microtask without dependencies, so the single-step path allocates no array for it. */
export const NO_DEPENDENCIES: readonly string[] = Object.freeze([]);

export class Decomposer {
  private readonly planners: readonly Planner[];

  constructor(planners?: readonly Planner[], options: DecomposerOptions = {}) {
    this.planners = planners ?? defaultPlanners(options);
  }

  plan(request: BiddingRequest, features?: TaskFeatures, extract: FeatureExtractor = (r) => extractFeatures(r)): TaskPlan {
    features ??= extract(request);
    for (const planner of this.planners) {
      if (!planner.applies(request, features)) continue;
      const plan = planner.plan(request, features, extract);
      if (plan !== null) return plan;
    }
    return singleTaskPlan(request, features);
  }
}

export function defaultPlanners(options: DecomposerOptions = {}): Planner[] {
  return [new ItemsPlanner(options), new SchemaPartsPlanner(options)];
}

/** The plan of a request done in one step: exactly one microtask, reusing the request's text and features. */
export function singleTaskPlan(request: Pick<BiddingRequest, "text" | "schema">, features: TaskFeatures): TaskPlan {
  const task: Microtask = {
    id: "task",
    kind: "whole",
    executor: "model",
    input: request.text,
    dependsOn: NO_DEPENDENCIES,
    parallel: false,
    features,
  };
  if (request.schema !== undefined) task.schema = request.schema;
  return { planner: "single", microtasks: [task] };
}

/**
 * A prompt enumerating separate pieces of work ("1. … 2. …", or "## " sections): one microtask per item, run in
 * parallel, each reading the preamble and postscript that frame the list, then a local step that joins the answers
 * in order. Only free-text requests in one turn: with a schema the answer's shape binds the items together, and in
 * a conversation earlier turns may too.
 */
export class ItemsPlanner implements Planner {
  readonly name = "items";
  private readonly maxItems: number;
  private readonly minItemChars: number;

  constructor(options: DecomposerOptions = {}) {
    this.maxItems = options.maxItems ?? 8;
    this.minItemChars = options.minItemChars ?? 12;
  }

  applies(request: BiddingRequest, features: TaskFeatures): boolean {
    return features.items >= 2 && features.items <= this.maxItems && request.schema === undefined &&
      request.jsonObject !== true && (request.turns ?? 1) <= 1;
  }

  plan(request: BiddingRequest, _features: TaskFeatures, extract: FeatureExtractor): TaskPlan | null {
    const spans = findItems(request.text);
    if (spans.length < 2 || spans.length > this.maxItems) return null;
    const text = request.text;
    const preamble = text.slice(0, spans[0]!.start).trim();
    const items = spans.map((span) => text.slice(span.start, span.end).trim());
    // A paragraph after the last item ("Answer each in one sentence.") frames all items, not only the last.
    const last = items.at(-1)!;
    const gap = last.indexOf("\n\n");
    let postscript = "";
    if (gap !== -1) {
      postscript = last.slice(gap).trim();
      items[items.length - 1] = last.slice(0, gap).trim();
    }
    if (items.some((item) => item.length < this.minItemChars)) return null;

    const microtasks: Microtask[] = items.map((item, i) => {
      const input = [preamble, item, postscript].filter((part) => part.length > 0).join("\n\n");
      const subRequest: BiddingRequest = { ...request, text: input, turns: 1 };
      return {
        id: `item-${i + 1}`,
        kind: "item",
        executor: "model",
        input,
        dependsOn: NO_DEPENDENCIES,
        parallel: true,
        features: extract(subRequest),
      };
    });
    microtasks.push(assembleStep(microtasks.map((m) => m.id)));
    return { planner: this.name, microtasks };
  }
}

/** Keywords at a schema's top level that tie properties together, so the parts would not be independent. */
const COUPLING_KEYWORDS = [
  "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies",
  "patternProperties", "propertyNames", "minProperties", "maxProperties", "unevaluatedProperties",
] as const;

/**
 * An output schema whose top-level object holds several independent sub-objects: one microtask per sub-object
 * (and one for the remaining scalar properties), each generating `{ "<property>": … }` under its own part of the
 * schema, then a local merge in the schema's declared property order. Refused when anything at the top couples
 * the properties, or when a $ref points anywhere but into $defs/definitions (a part would lose its target).
 */
export class SchemaPartsPlanner implements Planner {
  readonly name = "schema-parts";
  private readonly minSchemaProperties: number;
  private readonly maxParts: number;

  constructor(options: DecomposerOptions = {}) {
    this.minSchemaProperties = options.minSchemaProperties ?? 6;
    this.maxParts = options.maxParts ?? 8;
  }

  applies(request: BiddingRequest, features: TaskFeatures): boolean {
    return request.schema !== undefined && features.schemaProperties >= this.minSchemaProperties;
  }

  plan(request: BiddingRequest, _features: TaskFeatures, extract: FeatureExtractor): TaskPlan | null {
    const schema = request.schema;
    if (schema === undefined || (schema.type !== undefined && schema.type !== "object")) return null;
    const properties = schema.properties;
    if (!isRecord(properties) || COUPLING_KEYWORDS.some((k) => schema[k] !== undefined)) return null;
    if (!refsStayInDefinitions(properties) || !refsStayInDefinitions([schema.$defs, schema.definitions])) return null;

    const objectKeys: string[] = [];
    const scalarKeys: string[] = [];
    for (const key of Object.keys(properties)) (isObjectSchema(properties[key]) ? objectKeys : scalarKeys).push(key);
    const groups = objectKeys.map((key) => [key]);
    if (scalarKeys.length > 0) groups.push(scalarKeys);
    if (objectKeys.length < 2 || groups.length > this.maxParts) return null;

    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : []);
    const definitions: Record<string, unknown> = {};
    if (schema.$defs !== undefined) definitions.$defs = schema.$defs;
    if (schema.definitions !== undefined) definitions.definitions = schema.definitions;

    const microtasks: Microtask[] = groups.map((keys, i) => {
      const partSchema: Record<string, unknown> = {
        type: "object",
        properties: Object.fromEntries(keys.map((key) => [key, properties[key]])),
        required: keys.filter((key) => required.has(key)),
        additionalProperties: false,
        ...definitions,
      };
      return {
        id: `part-${i + 1}`,
        kind: "part",
        executor: "model",
        input: request.text,
        schema: partSchema,
        fills: keys,
        dependsOn: NO_DEPENDENCIES,
        parallel: true,
        features: extract({ ...request, schema: partSchema }),
      };
    });
    microtasks.push(assembleStep(microtasks.map((m) => m.id)));
    return { planner: this.name, microtasks };
  }
}

function assembleStep(dependsOn: string[]): Microtask {
  return { id: "assemble", kind: "assemble", executor: "local", input: "", dependsOn, parallel: false, features: null };
}

function isObjectSchema(node: unknown): boolean {
  return isRecord(node) && (node.type === "object" || (node.type === undefined && isRecord(node.properties)));
}

function refsStayInDefinitions(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(refsStayInDefinitions);
  if (!isRecord(node)) return true;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref") {
      if (typeof value !== "string" || !(value.startsWith("#/$defs/") || value.startsWith("#/definitions/"))) return false;
    } else if (!refsStayInDefinitions(value)) {
      return false;
    }
  }
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
