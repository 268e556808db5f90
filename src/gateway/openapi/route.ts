import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Hono } from "hono";
import { buildDocument, endpointsOf } from "./document.js";
import { OPERATIONS } from "./operations.js";

const read = (relative: string) => readFileSync(new URL(relative, import.meta.url), "utf8");

/** package.json sits three folders up from both src/gateway/openapi and dist/gateway/openapi (and in the bundle). */
const VERSION = (JSON.parse(read("../../../package.json")) as { version: string }).version;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * The reference page: one HTML file with its style and script inlined, allowed by their hashes and nothing else.
 * Nothing may be loaded from elsewhere, and the page may only read this gateway (the document).
 */
function referencePage(): { html: string; csp: string } {
  const style = read("./reference/reference.css");
  const script = read("./reference/reference.js");
  const html = read("./reference/index.html").replace("%STYLE%", () => style).replace("%SCRIPT%", () => script);
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp };
}

/**
 * GET /openapi.json and GET /docs, without credentials: they describe the interface, hold no data, and a client
 * (or an SDK generator) needs them before it has a key. The document is built on first request, when every route
 * is registered, from the routes Hono really holds.
 */
export function registerOpenApi(app: Hono): void {
  const page = referencePage();
  let document: string | undefined;
  app.get("/openapi.json", (c) => {
    document ??= JSON.stringify(buildDocument(endpointsOf(app), OPERATIONS, VERSION));
    return c.body(document, 200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" });
  });
  app.get("/docs", (c) => c.html(page.html, 200, { "content-security-policy": page.csp, "cache-control": "no-cache" }));
}
