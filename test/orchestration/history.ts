import { defaultPayloadConverter, type WorkflowHandle } from "@temporalio/client";

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
