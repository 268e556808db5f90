import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { ATTR, TRACER_NAME } from "../../../observability/tracing/interface.js";
import { routePattern } from "../../request-path.js";
import { whenAnswered } from "../../stream-end.js";

const HEADERS: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * The request's span, active for everything below (authentication, the pipeline's steps, a task's workflow start):
 * a child of the caller's trace when it sends a W3C `traceparent`, else a new trace. Named and labelled by route
 * pattern and status only: the path is the caller's text and may carry anything. It ends when the answer has gone
 * (a streamed one's last event), so the steps that stream end inside it. Installed only when tracing is on.
 */
export function httpTracing(): MiddlewareHandler {
  return async function httpTracingHandler(c, next) {
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, HEADERS);
    const method = c.req.method;
    const span = trace.getTracer(TRACER_NAME).startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR.httpMethod]: method } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      // Known only now: a refusal by the middleware below still names the route it would have reached.
      const route = routePattern(c);
      span.updateName(`${method} ${route}`);
      span.setAttributes({ [ATTR.httpRoute]: route, [ATTR.httpStatus]: c.res.status });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      whenAnswered(c, () => span.end());
    }
  };
}
