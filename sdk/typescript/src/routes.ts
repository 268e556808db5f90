/**
 * Every gateway operation this SDK calls, by the operationId of the gateway's /openapi.json, with its method, its
 * path template as the document writes it, and the query parameters the SDK may send. test/sdk/typescript.test.ts
 * checks each against the document a running gateway serves, and generates src/api-types.ts from the schemas these
 * operations name: a route renamed or removed on the gateway fails that test, not a user's call.
 */
export const ROUTES = {
  createTask: { method: "POST", path: "/v1/tasks", query: [] },
  getTask: { method: "GET", path: "/v1/tasks/{id}", query: [] },
  streamTaskEvents: { method: "GET", path: "/v1/tasks/{id}/events", query: [] },
  cancelTask: { method: "POST", path: "/v1/tasks/{id}/cancel", query: [] },
  registerSchema: { method: "POST", path: "/v1/schemas", query: [] },
  listSchemas: { method: "GET", path: "/v1/schemas", query: [] },
  getSchema: { method: "GET", path: "/v1/schemas/{name}", query: [] },
  getSchemaVersion: { method: "GET", path: "/v1/schemas/{name}/versions/{version}", query: [] },
  getExecution: { method: "GET", path: "/v1/executions/{id}", query: [] },
  getExecutionReceipt: { method: "GET", path: "/v1/executions/{id}/receipt", query: ["tree_size"] },
  getDecision: { method: "GET", path: "/v1/decisions/{id}", query: [] },
  createFeedback: { method: "POST", path: "/v1/feedback", query: [] },
  streamEvents: { method: "GET", path: "/v1/events", query: ["kinds"] },
  getAuditCheckpoint: { method: "GET", path: "/v1/audit/checkpoint", query: [] },
  getAuditReceipt: { method: "GET", path: "/v1/audit/receipt/{eventId}", query: ["tree_size"] },
} as const satisfies Record<string, Route>;

export interface Route {
  method: "GET" | "POST";
  path: string;
  query: readonly string[];
}

/** The route's path with its `{parameters}` filled in, each percent-encoded. */
export function pathOf(route: Route, parameters: Record<string, string | number> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new TypeError(`${route.method} ${route.path} needs ${name}`);
    return encodeURIComponent(String(value));
  });
}
