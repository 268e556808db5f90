import { seededRng } from "../../src/util/rng.js";
import type { TestGateway } from "../support/gateway.js";
import { until } from "../support/until.js";

/**
 * The labelled items the fitting tests rate and fit: a colour word among filler words, labelled by the colour
 * (x red, y blue, z green) — a class whose right answer the generated test model does not give unadapted, and that
 * an adapter fitted at the label's position can learn.
 */
export const LABELS = ["x", "y", "z"];
export const CUES: Record<string, string> = { x: "red", y: "blue", z: "green" };
const FILLER = ["the", "a", "big", "small", "cat", "dog", "runs", "sits", "on", "mat"];

/** A structured answer whose one string enum (its label field) holds the labels, between two other fields. */
export const COLOUR_SCHEMA = {
  type: "object",
  properties: { count: { type: "integer", minimum: 0, maximum: 9 }, label: { type: "string", enum: LABELS }, note: { type: "string", maxLength: 4 } },
  required: ["count", "label", "note"],
};

/** `count` items, the labels in turn, seeded: the same seed gives the same texts. */
export function colourItems(count: number, seed: number): Array<{ text: string; label: string }> {
  const random = seededRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = LABELS[i % LABELS.length]!;
    const words = Array.from({ length: 4 }, () => FILLER[Math.floor(random() * FILLER.length)]!);
    words.splice(Math.floor(random() * 5), 0, CUES[label]!);
    return { text: `Text: ${words.join(" ")}\nLabel:`, label };
  });
}

/** Polls a fit job (GET /v1/admin/adaptation/fits/:id with an admin key) until it is no longer running. */
export async function waitForFit(gw: TestGateway, adminKey: string, id: string): Promise<Record<string, any>> {
  for (;;) {
    const job = await (await gw.fetch(`/v1/admin/adaptation/fits/${id}`, { headers: { authorization: `Bearer ${adminKey}` } })).json();
    if (job.status !== "running") return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Waits until the gateway serves `adapterId` to the admin's tenant's `taskClass` on model gen (GET
 * /v1/admin/adaptation): it follows the manifest a fit writes by polling the file, about once a second.
 */
export async function waitForServedAdapter(gw: TestGateway, adminKey: string, taskClass: string, adapterId: string): Promise<void> {
  await until(async () => {
    const state = await (await gw.fetch(`/v1/admin/adaptation?task_class=${encodeURIComponent(taskClass)}`, { headers: { authorization: `Bearer ${adminKey}` } })).json();
    return (state.classes as Array<{ models: Array<{ model: string; adapter: { id: string } | null }> }>)
      .some((entry) => entry.models.some((m) => m.model === "gen" && m.adapter?.id === adapterId));
  });
}
