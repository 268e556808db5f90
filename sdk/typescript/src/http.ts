import { AtomicError, errorOf } from "./errors.js";
import { pathOf, type Route } from "./routes.js";

export interface ClientOptions {
  /** The gateway's root, `http://127.0.0.1:8080` (a trailing `/v1`, as OpenAI clients are given, is taken off). */
  baseUrl: string;
  /** An API key (`atomic apikeys create`) or a JWT, sent as `Authorization: Bearer …`. */
  apiKey?: string;
  /** Milliseconds a call may take, answer read included; for a stream, until its answer's headers. Default 10 min. */
  timeout?: number;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

/** Per call: a signal to abort it with, and a timeout of its own. */
export interface CallOptions {
  signal?: AbortSignal;
  timeout?: number;
}

const DEFAULT_TIMEOUT_MS = 600_000;

/**
 * A timer and the caller's signal, as one signal for fetch. `settle()` ends the timer (a stream's answer has come)
 * and `release()` also unlinks the caller's signal (the call is over).
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onAbort: () => void;
  timedOut = false;

  constructor(
    ms: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException(`the gateway did not answer within ${ms} ms`, "TimeoutError"));
    }, ms);
    this.onAbort = () => this.controller.abort(caller?.reason);
    if (caller?.aborted) this.onAbort();
    else caller?.addEventListener("abort", this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  settle(): void {
    clearTimeout(this.timer);
  }

  release(): void {
    this.settle();
    this.caller?.removeEventListener("abort", this.onAbort);
  }

  /** The error to throw for `failure`: the caller's own abort as it was given, else an AtomicError. */
  errorOf(failure: unknown): unknown {
    if (this.caller?.aborted) return this.caller.reason;
    if (this.timedOut) return new AtomicError({ status: null, code: "timeout", type: "connection_error", message: (this.signal.reason as Error).message, cause: failure });
    if (failure instanceof AtomicError) return failure;
    return new AtomicError({ status: null, code: "connection_error", type: "connection_error", message: `the gateway could not be reached: ${(failure as Error)?.message ?? String(failure)}`, cause: failure });
  }
}

export interface Call {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  options?: CallOptions | undefined;
}

/** An open stream: its answer, and `close()` to release what the call holds once it is read or abandoned. */
export interface OpenStream {
  response: Response;
  close(): void;
  errorOf(failure: unknown): unknown;
}

/** HTTP to the gateway: credentials, timeouts, and its error bodies as AtomicError. */
export class Http {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    if (typeof options.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError("baseUrl must be an http(s) URL");
    this.base = options.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  private urlOf(route: Route, call: Call): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value === undefined) continue;
      // Only what the route table says: test/sdk/typescript.test.ts checks those against the document.
      if (!route.query.includes(name)) throw new TypeError(`${route.method} ${route.path} takes no query parameter ${name}`);
      query.set(name, String(value));
    }
    const search = query.toString() === "" ? "" : `?${query}`;
    return `${this.base}${pathOf(route, call.params)}${search}`;
  }

  private async answer(route: Route, call: Call, deadline: Deadline, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept, ...this.options.headers, ...call.headers };
    if (this.options.apiKey !== undefined) headers["authorization"] = `Bearer ${this.options.apiKey}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetch(this.urlOf(route, call), {
      method: route.method,
      headers,
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: deadline.signal,
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private deadline(call: Call): Deadline {
    return new Deadline(call.options?.timeout ?? this.options.timeout ?? DEFAULT_TIMEOUT_MS, call.options?.signal);
  }

  /** The answer's body as `parse` reads it, the whole call within the timeout. */
  private async read<T>(route: Route, call: Call, accept: string, parse: (response: Response) => Promise<T>): Promise<T> {
    const deadline = this.deadline(call);
    try {
      return await parse(await this.answer(route, call, deadline, accept));
    } catch (failure) {
      throw deadline.errorOf(failure);
    } finally {
      deadline.release();
    }
  }

  json<T>(route: Route, call: Call = {}): Promise<T> {
    return this.read(route, call, "application/json", async (response) => {
      const text = await response.text();
      try {
        return JSON.parse(text) as T;
      } catch {
        const requestId = response.headers.get("x-request-id");
        throw new AtomicError({ status: response.status, code: "invalid_response", type: "server_error", message: `the answer is not JSON: ${text.slice(0, 200)}`, requestId });
      }
    });
  }

  text(route: Route, call: Call = {}): Promise<string> {
    return this.read(route, call, "text/plain", (response) => response.text());
  }

  /** Opens a server-sent event stream: the timeout runs until its headers, the caller's signal for its life. */
  async stream(route: Route, call: Call = {}): Promise<OpenStream> {
    const deadline = this.deadline(call);
    try {
      const response = await this.answer(route, call, deadline, "text/event-stream");
      deadline.settle();
      return { response, close: () => deadline.release(), errorOf: (failure) => deadline.errorOf(failure) };
    } catch (failure) {
      deadline.release();
      throw deadline.errorOf(failure);
    }
  }
}
