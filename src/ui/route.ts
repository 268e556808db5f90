import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Context, Hono } from "hono";
import { notFound } from "../gateway/errors.js";

/**
 * The operators' dashboard: static files shipped in the package (src/ui/assets, copied beside this module by the
 * build), read once at start. No framework, no build step, nothing from elsewhere: the page runs its own modules
 * and style only, builds its DOM without HTML strings (Trusted Types enforce it), and talks to this gateway alone.
 */
const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function loadAssets(): Map<string, Asset> {
  const folder = new URL("./assets/", import.meta.url);
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(folder)) {
    const type = TYPES[name.slice(name.lastIndexOf(".") + 1)];
    if (type === undefined) continue;
    const body = readFileSync(new URL(name, folder), "utf8");
    assets.set(name, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` });
  }
  return assets;
}

/**
 * GET /ui (the page) and GET /ui/:file (its modules and style), without credentials: they hold no data. The page
 * asks for a key and sends it to the admin routes, which decide what it may read.
 */
export function registerUi(app: Hono): void {
  const assets = loadAssets();
  const serve = (c: Context, name: string) => {
    const asset = assets.get(name);
    if (asset === undefined) throw notFound("ui_file_not_found", `the dashboard has no file ${JSON.stringify(name)}`);
    const headers = { "content-type": asset.type, "content-security-policy": UI_CSP, "cache-control": "no-cache", etag: asset.etag };
    if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, headers);
  };
  app.get("/ui", (c) => serve(c, "index.html"));
  app.get("/ui/:file", (c) => serve(c, c.req.param("file")));
}
