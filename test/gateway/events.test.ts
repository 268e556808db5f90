import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Past this, a stream that has not shown what a test waits for has failed; nothing is timed more closely. */
const DEADLINE_MS = 30_000;

let gw: TestGateway;
let keyA: string;
let keyB: string;
/** Execution ids, in the order they were made: tenant A's first, tenant B's, tenant A's second. */
let a1: string;
let b1: string;
let a2: string;

async function chat(key: string): Promise<string> {
  const response = await gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 2 }, { authorization: `Bearer ${key}` });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return response.headers.get("x-atomic-execution-id")!;
}

/** One event of the stream's text; undefined for a block of comments only (keep-alives). */
function parseBlock(block: string): SseEvent | undefined {
  const fields: Record<string, string[]> = {};
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    (fields[name] ??= []).push(value);
  }
  if (fields["data"] === undefined) return undefined;
  return { id: fields["id"]?.at(-1) ?? "", event: fields["event"]?.at(-1) ?? "message", data: fields["data"].join("\n") };
}

/**
 * Opens GET /v1/events as `key` and reads events until `enough` says so, then disconnects. `opened` runs once the
 * answer's headers are in, before any event is read: what it does happens while the stream is live.
 */
async function readStream(key: string, enough: (events: SseEvent[]) => boolean, options: { query?: string; lastEventId?: string; opened?: () => Promise<void> } = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(new Error("the stream did not show what was expected in time")), DEADLINE_MS);
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...(options.lastEventId === undefined ? {} : { "last-event-id": options.lastEventId }) };
    const response = await fetch(`${gw.url}/v1/events${options.query ?? ""}`, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    await options.opened?.();
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: SseEvent[] = [];
    let buffer = "";
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended");
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const event = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event !== undefined) events.push(event);
      }
    }
    return events;
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
}

const eventOf = (sse: SseEvent): AuditEvent => JSON.parse(sse.data) as AuditEvent;
const has = (executionId: string) => (events: SseEvent[]) => events.some((sse) => eventOf(sse).id === executionId);
/** The events up to and including the execution's: a read may run past it. */
const upTo = (events: SseEvent[], executionId: string) => events.slice(0, events.findIndex((sse) => eventOf(sse).id === executionId) + 1);

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
  keyA = await gw.issueKey("events-a", ["infer"]);
  keyB = await gw.issueKey("events-b", ["infer"]);
  // B's execution between A's: A's stream must pass over it.
  a1 = await chat(keyA);
  b1 = await chat(keyB);
  a2 = await chat(keyA);
});
afterAll(async () => gw?.close());

describe("GET /v1/events", () => {
  let first: SseEvent[];

  it("streams the tenant's events in log order, ids their audit log indexes, and nothing of another tenant's", async () => {
    first = upTo(await readStream(keyA, has(a2)), a2);
    const ids = first.map((sse) => Number(sse.id));
    expect(ids.every((id, i) => Number.isSafeInteger(id) && (i === 0 || id > ids[i - 1]!))).toBe(true);
    const events = first.map(eventOf);
    expect(events.every((event) => event.actor?.tenant === "events-a")).toBe(true);
    expect(events.map((event) => event.id)).not.toContain(b1);
    const executions = events.filter((event) => event.kind === "request").map((event) => event.id);
    expect(executions).toEqual([a1, a2]);
    expect(first.every((sse) => sse.event === eventOf(sse).kind)).toBe(true);

    // The id is the leaf's index, the data its event as the log holds it: digests, not content.
    const log = await auditEvents(gw.databaseUrl);
    for (const sse of first) expect(log[Number(sse.id)]).toEqual(eventOf(sse));
    expect(eventOf(first.find((sse) => eventOf(sse).id === a1)!).content?.inputHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.map((sse) => sse.data).join("")).not.toContain("Hello");
  });

  it("resumes after Last-Event-ID, or ?after=, with the same ids and data", async () => {
    expect(first.length).toBeGreaterThan(1);
    const resumed = upTo(await readStream(keyA, has(a2), { lastEventId: first[0]!.id }), a2);
    expect(resumed).toEqual(first.slice(1));
    const after = upTo(await readStream(keyA, has(a2), { query: `?after=${first[0]!.id}` }), a2);
    expect(after).toEqual(first.slice(1));
    // EventSource reconnects to the URL it was opened with: the header it adds is the newer position.
    const both = upTo(await readStream(keyA, has(a2), { query: "?after=0", lastEventId: first[0]!.id }), a2);
    expect(both).toEqual(first.slice(1));
  });

  it("sends an event made after the client connected, and only the kinds asked for", async () => {
    let a3 = "";
    const live = await readStream(keyA, (events) => a3 !== "" && has(a3)(events), {
      query: "?kinds=request,webhook.attempt",
      lastEventId: first.at(-1)!.id,
      opened: async () => void (a3 = await chat(keyA)),
    });
    expect(live.map((sse) => eventOf(sse).id)).toEqual([a3]);
    expect(live[0]!.event).toBe("request");
    expect(Number(live[0]!.id)).toBeGreaterThan(Number(first.at(-1)!.id));
  });

  it("refuses a bad position, an unknown kind, a caller without credentials or scope", async () => {
    const refused = async (init: { query?: string; headers?: Record<string, string> }, status: number) => {
      const response = await gw.fetch(`/v1/events${init.query ?? ""}`, { headers: { authorization: `Bearer ${keyA}`, ...init.headers } });
      expect(response.status).toBe(status);
      return ((await response.json()) as { error: { code: string; param: string | null } }).error;
    };
    for (const id of ["-1", "abc", "1.5", ""]) {
      expect(await refused({ headers: { "last-event-id": id } }, 400)).toMatchObject({ code: "invalid_parameter", param: "Last-Event-ID" });
    }
    expect(await refused({ query: "?after=-1" }, 400)).toMatchObject({ code: "invalid_parameter", param: "after" });
    expect(await refused({ query: "?kinds=request,nope" }, 400)).toMatchObject({ code: "unknown_event_kind", param: "kinds" });
    // The tenant's administration (keys, policy, models) is for its admins, not for every key that runs work.
    expect(await refused({ query: "?kinds=request,apikey.created" }, 403)).toMatchObject({ code: "insufficient_scope" });
    expect(await refused({ query: "?since=1" }, 400)).toMatchObject({ code: "unknown_parameter" });
    expect((await fetch(`${gw.url}/v1/events`)).status).toBe(401);
    const metricsOnly = await gw.issueKey("events-a", ["metrics:read"]);
    expect(await refused({ headers: { authorization: `Bearer ${metricsOnly}` } }, 403)).toMatchObject({ code: "insufficient_scope" });
  });

  it("stops reading the log when the client goes away", async () => {
    // Another gateway, closed right after its client leaves: a stream still polling would query the closed
    // database and log its failure.
    const own = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
    try {
      const key = await own.issueKey("events-gone", ["infer"]);
      const controller = new AbortController();
      const response = await fetch(`${own.url}/v1/events`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
      expect(response.status).toBe(200);
      controller.abort();
      await response.body?.cancel().catch(() => undefined);
    } finally {
      await own.close();
    }
    // Several poll intervals (250 ms each) after the close.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(own.logs.filter((line) => line["msg"] === "event stream failed")).toEqual([]);
  });
});
