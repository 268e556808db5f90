import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultPayloadConverter, type WorkflowHandle } from "@temporalio/client";
import { locateTemporalBinary } from "../../src/orchestration/temporal-binary.js";

type History = Awaited<ReturnType<WorkflowHandle["fetchHistory"]>>;
type Event = NonNullable<History["events"]>[number];

export interface ScheduledInference {
  eventId: number;
  scheduledEventId: number;
  microtask: string;
  model: string;
  taskQueue: string;
  /** Event id of its completion, failure or timeout; undefined while it runs. */
  closedEventId?: number;
}

const num = (value: unknown) => Number(value ?? 0);

/** The runMicrotask activities a task workflow scheduled, in history order, with when each closed. */
export function inferencesIn(history: History): ScheduledInference[] {
  const events: Event[] = history.events ?? [];
  const scheduled = new Map<number, ScheduledInference>();
  for (const event of events) {
    const attrs = event.activityTaskScheduledEventAttributes;
    if (attrs && attrs.activityType?.name === "runMicrotask") {
      const request = defaultPayloadConverter.fromPayload<{ microtask: { id: string }; model: string }>(attrs.input!.payloads![0]!);
      const eventId = num(event.eventId);
      scheduled.set(eventId, { eventId, scheduledEventId: eventId, microtask: request.microtask.id, model: request.model, taskQueue: attrs.taskQueue?.name ?? "" });
    }
    const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (closed) {
      const entry = scheduled.get(num(closed.scheduledEventId));
      if (entry) entry.closedEventId = num(event.eventId);
    }
  }
  return [...scheduled.values()];
}

/** The local activities a workflow ran, by type, in the order their markers were recorded. */
export function localActivitiesIn(history: History): string[] {
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== "core_local_activity") return [];
    // Core writes the marker's own data as plain JSON, whatever codec the workflow's payloads go through.
    const data = marker.details?.["data"]?.payloads?.[0];
    return data ? [defaultPayloadConverter.fromPayload<{ activity_type: string }>(data).activity_type] : [];
  });
}

/**
 * Writes a workflow's history as a fixture for replay.test.ts (the export format of `temporal workflow show`); the
 * tests call it when ATOMIC_RECORD_HISTORY is set.
 */
export function recordHistoryFixture(server: { address: string; namespace: string }, workflowId: string, file: string): void {
  const json = execFileSync(locateTemporalBinary(), ["workflow", "show", "--workflow-id", workflowId, "--namespace", server.namespace, "--address", server.address, "--output", "json"], { encoding: "utf8" });
  mkdirSync(join(import.meta.dirname, "fixtures"), { recursive: true });
  writeFileSync(join(import.meta.dirname, "fixtures", file), `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
}
