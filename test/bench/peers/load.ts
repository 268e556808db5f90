/**
 * The load the peers bench puts on each gateway: plain node:http over keep-alive connections (lighter than fetch,
 * so the generator is not what saturates first), one chat completion body, every answer read whole and checked.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface Endpoint {
  /** Origin, e.g. http://127.0.0.1:4000. */
  url: string;
  path: string;
  headers: Record<string, string>;
}

export interface Client {
  /** One request; resolves with its status once the answer was read whole. */
  send(): Promise<number>;
  close(): void;
}

export function client(endpoint: Endpoint, body: string, connections: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(endpoint.url);
  const payload = Buffer.from(body);
  const headers = { ...endpoint.headers, "content-type": "application/json", "content-length": String(payload.length) };
  return {
    send: () => new Promise((resolve, reject) => {
      const req = request({ agent, hostname, port, path: endpoint.path, method: "POST", headers }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    }),
    close: () => agent.destroy(),
  };
}

/** Fails with the status and the endpoint when an answer is not 200: a figure over errors would mean nothing. */
function expectOk(status: number, endpoint: Endpoint): void {
  if (status !== 200) throw new Error(`${endpoint.url}${endpoint.path} answered HTTP ${status}`);
}

/** Milliseconds per request, one at a time, after `warmup` unmeasured ones. */
export async function latencies(endpoint: Endpoint, body: string, count: number, warmup: number): Promise<number[]> {
  const one = client(endpoint, body, 1);
  try {
    const sample: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const started = performance.now();
      expectOk(await one.send(), endpoint);
      if (i >= warmup) sample.push(performance.now() - started);
    }
    return sample;
  } finally {
    one.close();
  }
}

export interface Throughput {
  /** Requests answered per second in the measured window. */
  perSecond: number;
  /** Milliseconds per request (sent to read whole) of the requests answered in the measured window. */
  sample: number[];
}

/**
 * `concurrency` requests always in flight: for `warmupMs` unmeasured (connections opened, caches and JIT warm),
 * then for `durationMs`, in which every answer counts; what is still in flight at the end is read but not counted.
 * Counting answers, not requests sent, keeps a gateway slower than the window honest: its rate is what it
 * answered in that time.
 */
export async function throughput(endpoint: Endpoint, body: string, concurrency: number, durationMs: number, warmupMs = 0): Promise<Throughput> {
  const many = client(endpoint, body, concurrency);
  const sample: number[] = [];
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + durationMs;
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < windowEnd) {
        const sent = performance.now();
        expectOk(await many.send(), endpoint);
        const answered = performance.now();
        if (answered >= windowStart && answered < windowEnd) sample.push(answered - sent);
      }
    }));
    return { perSecond: sample.length / (durationMs / 1000), sample };
  } finally {
    many.close();
  }
}
