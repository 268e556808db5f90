import { context, diag, DiagLogLevel, propagation, trace, type DiagLogFunction } from "@opentelemetry/api";
import { ConfigError } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import { EgressAllowlist } from "../../egress/allowlist.js";
import type { Logger } from "../logger.js";
import type { Tracing } from "./interface.js";

/** One provider per process: the API's globals (tracer provider, context manager, propagator) are process-wide. */
let registered = false;

const OFF: Tracing = { spans: null, flush: async () => undefined, shutdown: async () => undefined };

/**
 * Tracing as `tracing` configures it. Off (the default): nothing is registered, the API's no-op tracer answers every
 * span, no header is read or sent, and the SDK is not even loaded. On: a provider that follows a caller's sampled flag
 * and samples new traces by `sampleRatio`, W3C trace context as the only propagator (no baggage: it would carry
 * whatever a caller put in it), and a batch exporter over OTLP/HTTP to `endpoint` when one is set. An endpoint the
 * egress allowlist does not name is refused before anything is registered: no data leaves for a destination the
 * operator did not open.
 */
export async function startTracing(config: Config, logger: Logger): Promise<Tracing> {
  const settings = config.tracing;
  if (!settings.enabled) return OFF;
  const endpoint = settings.endpoint === undefined ? undefined : collectorUrl(settings.endpoint);
  if (endpoint !== undefined) refuseUnlisted(endpoint, config.egress.allow);
  if (registered) throw new Error("tracing is already started in this process");

  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { Resource }, sdk] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace-base"),
  ]);
  const processor = endpoint === undefined
    ? new sdk.NoopSpanProcessor()
    : new sdk.BatchSpanProcessor(new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({ url: endpoint.href }));
  const resource = new Resource({ "service.name": settings.serviceName });
  const provider = new sdk.BasicTracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [processor],
  });
  const log = logger.child({ component: "tracing" });
  // The SDK reports failed exports through its diagnostic logger, which says nothing unless one is set.
  const warn: DiagLogFunction = (message, ...args) => log.warn({ detail: args }, message);
  const quiet: DiagLogFunction = () => undefined;
  diag.setLogger({ error: warn, warn, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  const contextManager = new AsyncLocalStorageContextManager().enable();
  provider.register({ contextManager, propagator: new W3CTraceContextPropagator() });
  registered = true;
  log.info({ endpoint: endpoint?.href ?? null, serviceName: settings.serviceName, sampleRatio: settings.sampleRatio }, endpoint === undefined ? "tracing on, exporting nowhere (no tracing.endpoint)" : "tracing on");

  let stopping: Promise<void> | undefined;
  return {
    spans: { processor, resource },
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopping ??= (async () => {
        await provider.shutdown().catch((error: unknown) => log.warn({ err: error }, "tracing: the last spans could not be exported"));
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
        registered = false;
      })()),
  };
}

/** The OTLP/HTTP traces URL: an endpoint given as a bare collector address gets the standard path. */
function collectorUrl(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.pathname === "/") url.pathname = "/v1/traces";
  return url;
}

function refuseUnlisted(url: URL, allow: readonly string[]): void {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (new EgressAllowlist(allow).allows(url.hostname, port)) return;
  throw new ConfigError(`tracing.endpoint ${url.origin} is not on the egress allowlist: add "${url.hostname}:${port}" to egress.allow to export traces there, or unset tracing.endpoint`);
}
