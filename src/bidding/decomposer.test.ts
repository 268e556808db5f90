import { afterEach, describe, expect, it, vi } from "vitest";
import { Decomposer, ItemsPlanner, NO_DEPENDENCIES, SchemaPartsPlanner, type Planner } from "./decomposer.js";
import { extractFeatures } from "./features.js";
import type { BiddingRequest } from "./request.js";

afterEach(() => {
  vi.restoreAllMocks();
});

const LIST = [
  "Answer the following questions about the attached contract.",
  "",
  "1. Who are the parties to the agreement?",
  "2. When does the agreement end and how can it be renewed?",
  "3. What happens if a payment is late?",
  "",
  "Answer each in one sentence.",
].join("\n");

const SCHEMA = {
  type: "object",
  properties: {
    buyer: { type: "object", properties: { name: { type: "string" }, vat: { type: "string" } }, required: ["name"] },
    seller: { type: "object", properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } } },
    total: { type: "number" },
    currency: { type: "string" },
  },
  required: ["buyer", "total"],
  $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
};

describe("Decomposer", () => {
  it("keeps a single-step request one microtask, reusing its text and features, without running a rule", () => {
    const itemsPlan = vi.spyOn(ItemsPlanner.prototype, "plan");
    const partsPlan = vi.spyOn(SchemaPartsPlanner.prototype, "plan");
    const request: BiddingRequest = { kind: "chat", text: "What is the capital of France?" };
    const features = extractFeatures(request);

    const plan = new Decomposer().plan(request, features);

    expect(plan.planner).toBe("single");
    expect(plan.microtasks).toHaveLength(1);
    const [task] = plan.microtasks;
    expect(task).toEqual({ id: "task", kind: "whole", executor: "model", input: request.text, dependsOn: [], parallel: false, features });
    // Nothing beyond the one task: the request's own features object and the shared empty dependency list.
    expect(task!.features).toBe(features);
    expect(task!.dependsOn).toBe(NO_DEPENDENCIES);
    expect(itemsPlan).not.toHaveBeenCalled();
    expect(partsPlan).not.toHaveBeenCalled();
  });

  it("asks a planner for a plan only when its cheap test applies, and takes the first plan offered", () => {
    const declined: Planner = { name: "declined", applies: () => false, plan: vi.fn() };
    const empty: Planner = { name: "empty", applies: () => true, plan: vi.fn(() => null) };
    const custom: Planner = {
      name: "custom",
      applies: () => true,
      plan: (request, features) => ({ planner: "custom", microtasks: [{ id: "x", kind: "whole", executor: "model", input: request.text, dependsOn: [], parallel: false, features }] }),
    };
    const plan = new Decomposer([declined, empty, custom]).plan({ kind: "chat", text: "hi" });
    expect(declined.plan).not.toHaveBeenCalled();
    expect(empty.plan).toHaveBeenCalledOnce();
    expect(plan.planner).toBe("custom");
  });

  it("splits enumerated items into parallel microtasks framed by the preamble and postscript, then assembles", () => {
    const plan = new Decomposer().plan({ kind: "chat", text: LIST, turns: 1 });

    expect(plan.planner).toBe("items");
    expect(plan.microtasks.map((m) => m.id)).toEqual(["item-1", "item-2", "item-3", "assemble"]);
    const [first, , third, assemble] = plan.microtasks;
    expect(first!.input).toBe("Answer the following questions about the attached contract.\n\n1. Who are the parties to the agreement?\n\nAnswer each in one sentence.");
    expect(third!.input).toContain("3. What happens if a payment is late?");
    expect(third!.input).not.toContain("2. When");
    for (const item of plan.microtasks.slice(0, 3)) {
      expect(item).toMatchObject({ kind: "item", executor: "model", parallel: true, dependsOn: [] });
      expect(item.features?.taskType).toBe("chat");
    }
    expect(assemble).toMatchObject({ kind: "assemble", executor: "local", dependsOn: ["item-1", "item-2", "item-3"], parallel: false, features: null });
  });

  it("splits markdown sections as items", () => {
    const plan = new Decomposer().plan({ kind: "task", text: "## Part one\nTranslate the greeting into German.\n## Part two\nTranslate the farewell into Italian." });
    expect(plan.planner).toBe("items");
    expect(plan.microtasks).toHaveLength(3);
  });

  it("leaves lists whole when they are formatting, not separate work", () => {
    const decomposer = new Decomposer();
    const single = (request: BiddingRequest) => decomposer.plan(request).planner;
    expect(single({ kind: "chat", text: "Rules:\n- answer in French\n- be short" })).toBe("single");
    expect(single({ kind: "chat", text: "Steps:\n1. Mix well\n2. Bake" })).toBe("single"); // items too short
    expect(single({ kind: "chat", text: "See point:\n1. The first thing to consider here\n3. A gap in numbering means prose" })).toBe("single");
    expect(single({ kind: "chat", text: LIST, turns: 3 })).toBe("single"); // earlier turns may bind the items
    expect(single({ kind: "chat", text: LIST, jsonObject: true })).toBe("single");
    expect(single({ kind: "chat", text: LIST, schema: { type: "object", properties: { a: { type: "string" } } } })).toBe("single");
    const many = Array.from({ length: 9 }, (_, i) => `${i + 1}. Question number ${i + 1} about the topic`).join("\n");
    expect(single({ kind: "chat", text: `Answer:\n${many}` })).toBe("single"); // more than maxItems
    expect(new Decomposer(undefined, { maxItems: 12 }).plan({ kind: "chat", text: `Answer:\n${many}` }).planner).toBe("items");
  });

  it("splits a schema with independent sub-objects into parts, one for the remaining scalars, then merges", () => {
    const plan = new Decomposer().plan({ kind: "task", text: "Invoice 42 from ACME to Globex, total 100 EUR", schema: SCHEMA });

    expect(plan.planner).toBe("schema-parts");
    expect(plan.microtasks.map((m) => [m.id, m.fills])).toEqual([
      ["part-1", ["buyer"]],
      ["part-2", ["seller"]],
      ["part-3", ["total", "currency"]],
      ["assemble", undefined],
    ]);
    const [buyer, seller, rest, assemble] = plan.microtasks;
    expect(buyer!.schema).toEqual({
      type: "object", properties: { buyer: SCHEMA.properties.buyer }, required: ["buyer"], additionalProperties: false, $defs: SCHEMA.$defs,
    });
    expect(seller!.schema?.required).toEqual([]);
    expect(rest!.schema?.properties).toEqual({ total: { type: "number" }, currency: { type: "string" } });
    for (const part of [buyer!, seller!, rest!]) {
      expect(part).toMatchObject({ kind: "part", executor: "model", parallel: true, dependsOn: [], input: "Invoice 42 from ACME to Globex, total 100 EUR" });
      expect(part.features?.json).toBe(true);
    }
    expect(buyer!.features!.schemaProperties).toBeLessThan(extractFeatures({ kind: "task", text: "x", schema: SCHEMA }).schemaProperties);
    expect(assemble).toMatchObject({ executor: "local", dependsOn: ["part-1", "part-2", "part-3"] });
  });

  it("leaves a schema whole when its properties are coupled or too few to split", () => {
    const single = (schema: Record<string, unknown>) => new Decomposer().plan({ kind: "task", text: "x", schema }).planner;
    expect(single({ ...SCHEMA, allOf: [{ required: ["currency"] }] })).toBe("single");
    expect(single({ ...SCHEMA, dependentRequired: { total: ["currency"] } })).toBe("single");
    expect(single({ ...SCHEMA, properties: { ...SCHEMA.properties, copy: { $ref: "#/properties/buyer" } } })).toBe("single");
    expect(single({ type: "object", properties: { a: { type: "object", properties: { x: { type: "string" } } }, b: { type: "object", properties: { y: { type: "string" } } } } })).toBe("single");
    expect(single({ type: "array", items: SCHEMA })).toBe("single");
  });
});
