import type { AuditEvent } from "./api-types.js";
import { AtomicError } from "./errors.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";
import { sleep } from "./sleep.js";
import { serverSentEvents } from "./sse.js";

/** One event of GET /v1/events: an audit event of the caller's tenant, as the log holds it (digests, never content). */
export interface AtomicEvent {
  /** Its index in the audit log: ids order all events, and have gaps where other tenants' events are. */
  id: number;
  kind: AuditEvent["kind"];
  event: AuditEvent;
}

export interface EventStreamOptions extends CallOptions {
  /** Resume after this event id (sent as Last-Event-ID): the stream starts with the next event. */
  lastEventId?: number | string;
  /** Only events of these kinds. */
  kinds?: ReadonlyArray<AuditEvent["kind"]>;
  /**
   * Whether a stream that breaks after it was open is opened again, after the last id received, so that nothing is
   * missed (delivery is at least once). Default true. An answer that is an error is thrown either way.
   */
  reconnect?: boolean;
  /** Milliseconds before reconnecting, unless the stream says otherwise (`retry:`). Default 1000. */
  reconnectDelayMs?: number;
}

/** GET /v1/events: the tenant's event stream. */
export class Events {
  constructor(private readonly http: Http) {}

  /**
   * The events as they are sequenced, without end: leave the loop (or abort `signal`) to stop. With `reconnect`
   * (the default), a stream that breaks is opened again with the last id received as Last-Event-ID.
   */
  async *stream(options: EventStreamOptions = {}): AsyncGenerator<AtomicEvent> {
    const reconnect = options.reconnect ?? true;
    let delay = options.reconnectDelayMs ?? 1000;
    let last = options.lastEventId === undefined ? undefined : String(options.lastEventId);
    const query = { kinds: options.kinds?.join(",") };
    let opened = false;
    for (;;) {
      let open;
      try {
        open = await this.http.stream(ROUTES.streamEvents, { query, headers: last === undefined ? {} : { "last-event-id": last }, options });
      } catch (error) {
        // A gateway that never answered is a wrong address, not a break to ride out.
        if (!reconnect || !opened || !(error instanceof AtomicError) || error.status !== null) throw error;
        await sleep(delay, options.signal);
        continue;
      }
      opened = true;
      try {
        for await (const sse of serverSentEvents(open.response.body!)) {
          if (sse.retry !== undefined) delay = sse.retry;
          if (sse.id !== "") last = sse.id;
          const event = JSON.parse(sse.data) as AuditEvent;
          yield { id: Number(sse.id), kind: event.kind, event };
        }
      } catch (failure) {
        const error = open.errorOf(failure);
        if (!reconnect || !(error instanceof AtomicError)) throw error;
      } finally {
        open.close();
      }
      if (!reconnect) return;
      await sleep(delay, options.signal);
    }
  }
}
