// The reference page's renderer: the gateway's OpenAPI document as HTML, in the browser, with nothing fetched but
// the document itself. Plain JavaScript, inlined into the page under a hash in its Content-Security-Policy; the
// rendering is a pure function of the document, so that the tests can run it without a browser.

const METHODS = ["get", "post", "put", "patch", "delete"];
/** How deep a schema is unfolded before the rest is left as a name: recursive schemas would never end. */
const MAX_DEPTH = 8;

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/** Descriptions are plain text with `code` spans and blank lines between paragraphs. */
function prose(text) {
  if (!text) return "";
  return text.split(/\n{2,}/).map((paragraph) =>
    `<p>${escapeHtml(paragraph).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`).join("");
}

const refName = (ref) => ref.split("/").pop();
const anchor = (text) => String(text).replace(/[^A-Za-z0-9_-]/g, "-");

function resolve(doc, ref) {
  if (!ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/").reduce((node, key) => (node === undefined ? undefined : node[key.replace(/~1/g, "/").replace(/~0/g, "~")]), doc);
}

/** A one-line summary of a schema's type: `string`, `array of Usage`, `one of 3`, … */
function typeOf(schema) {
  if (schema === false || (schema?.not && Object.keys(schema.not).length === 0)) return "nothing";
  if (schema === true || schema === undefined || Object.keys(schema).length === 0) return "any";
  if (schema.$ref) return refName(schema.$ref);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const nullable = variants.some((v) => v.type === "null");
    const rest = variants.filter((v) => v.type !== "null");
    const inner = rest.length === 1 ? typeOf(rest[0]) : `one of ${rest.length}`;
    return nullable ? `${inner} | null` : inner;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.includes("array")) return `array of ${typeOf(schema.items)}`;
  return types.join(" | ") || "any";
}

const CONSTRAINTS = [
  ["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"],
  ["minLength", "min length"], ["maxLength", "max length"], ["minItems", "min items"], ["maxItems", "max items"],
  ["format", "format"], ["pattern", "pattern"], ["default", "default"],
];

function constraintsOf(schema) {
  if (!schema || typeof schema !== "object") return "";
  const parts = CONSTRAINTS.filter(([key]) => key in schema).map(([key, label]) => {
    const value = key === "pattern" || key === "format" ? schema[key] : JSON.stringify(schema[key]);
    return `<span class="constraint">${escapeHtml(label)} <code>${escapeHtml(value)}</code></span>`;
  });
  // A bound at the edge of the safe integers says nothing to a reader.
  return parts.filter((part) => !part.includes("9007199254740991")).join(" ");
}

/** What is inside a schema worth unfolding: properties, items, variants, or what a reference names. */
function body(doc, schema, depth, seen) {
  if (!schema || typeof schema !== "object" || depth > MAX_DEPTH) return "";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (seen.includes(name)) return `<p class="note">${escapeHtml(name)}, as above.</p>`;
    return view(doc, resolve(doc, schema.$ref), depth, [...seen, name]);
  }
  return view(doc, schema, depth, seen);
}

function view(doc, schema, depth, seen) {
  if (!schema || typeof schema !== "object") return "";
  let html = schema.description && depth === 0 ? prose(schema.description) : "";
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const shown = variants.filter((v) => v.type !== "null");
    if (shown.length === 1) return html + body(doc, shown[0], depth, seen);
    html += `<ol class="variants">${shown.map((v) => `<li><span class="type">${escapeHtml(typeOf(v))}</span>${v.description ? prose(v.description) : ""}${body(doc, v, depth + 1, seen)}</li>`).join("")}</ol>`;
    return html;
  }
  if (schema.properties) {
    const required = new Set(schema.required ?? []);
    const rows = Object.entries(schema.properties).map(([name, property]) => {
      const inner = body(doc, property, depth + 1, seen);
      return `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="required">required</span>' : ""}</td>` +
        `<td><span class="type">${escapeHtml(typeOf(property))}</span> ${constraintsOf(property)}${prose(property.description)}` +
        `${inner ? `<details><summary>fields</summary>${inner}</details>` : ""}</td></tr>`;
    }).join("");
    html += `<table class="fields"><tbody>${rows}</tbody></table>`;
    if (schema.additionalProperties && typeof schema.additionalProperties === "object" && Object.keys(schema.additionalProperties).length > 0) {
      html += `<p class="note">Other keys: ${escapeHtml(typeOf(schema.additionalProperties))}</p>${body(doc, schema.additionalProperties, depth + 1, seen)}`;
    }
    return html;
  }
  if (schema.items) return html + body(doc, schema.items, depth + 1, seen);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    return `${html}<p class="note">An object; each value: ${escapeHtml(typeOf(schema.additionalProperties))}</p>${body(doc, schema.additionalProperties, depth + 1, seen)}`;
  }
  return html;
}

function schemaBlock(doc, schema) {
  return `<div class="schema"><span class="type">${escapeHtml(typeOf(schema))}</span> ${constraintsOf(schema)}${body(doc, schema, 0, [])}</div>`;
}

function content(doc, media) {
  return Object.entries(media ?? {}).map(([type, entry]) => {
    const events = entry["x-atomic-event-data"];
    const schema = events ?? entry.schema;
    // A text body's schema is only "a string": its media type says more.
    const shown = schema !== undefined && (events !== undefined || !type.startsWith("text/"));
    return `<div class="media"><code>${escapeHtml(type)}</code>${events ? " — each <code>data:</code> is:" : ""}${shown ? schemaBlock(doc, schema) : ""}</div>`;
  }).join("");
}

function security(op) {
  if (!op.security || op.security.length === 0) return '<p class="auth">No credentials.</p>';
  const scopes = op.security.flatMap((requirement) => Object.values(requirement).flat());
  return `<p class="auth">Bearer credentials${scopes.length > 0 ? `; scope ${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(" or ")} (<code>admin</code> holds every scope)` : ""}.</p>`;
}

function parameters(doc, op) {
  if (!op.parameters || op.parameters.length === 0) return "";
  const rows = op.parameters.map((p) =>
    `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? ' <span class="required">required</span>' : ""}</td><td>${escapeHtml(p.in)}</td>` +
    `<td><span class="type">${escapeHtml(typeOf(p.schema))}</span> ${constraintsOf(p.schema)}${prose(p.description)}</td></tr>`).join("");
  return `<h4>Parameters</h4><table class="fields"><tbody>${rows}</tbody></table>`;
}

/** A shared response (the errors) is described once, at the end, not unfolded under every operation. */
function sharedContent(media) {
  return Object.entries(media ?? {}).map(([type, entry]) =>
    `<div class="media"><code>${escapeHtml(type)}</code> <a href="#errors" class="type">${escapeHtml(entry.schema ? typeOf(entry.schema) : "")}</a></div>`).join("");
}

function responses(doc, op) {
  return Object.entries(op.responses ?? {}).map(([status, response]) => {
    const resolved = response.$ref ? resolve(doc, response.$ref) ?? {} : response;
    const headers = Object.keys(resolved.headers ?? {});
    const detail = `${prose(resolved.description)}${headers.length > 0 ? `<p class="note">Headers: ${headers.map((h) => `<code>${escapeHtml(h)}</code>`).join(", ")}</p>` : ""}` +
      (response.$ref ? sharedContent(resolved.content) : content(doc, resolved.content));
    return `<details class="response${status.startsWith("2") ? " success" : ""}"${status.startsWith("2") ? " open" : ""}><summary><span class="status">${escapeHtml(status)}</span> ${escapeHtml(response.$ref ? refName(response.$ref) : firstLine(resolved.description))}</summary>${detail}</details>`;
  }).join("");
}

const firstLine = (text) => (text ?? "").split("\n")[0];

function operation(doc, path, method, op) {
  const id = anchor(op.operationId ?? `${method}-${path}`);
  return `<section class="operation" id="${id}" data-search="${escapeHtml(`${method} ${path} ${op.summary ?? ""} ${op.operationId ?? ""}`.toLowerCase())}">` +
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>` +
    `<p class="summary">${escapeHtml(op.summary ?? "")}${op.operationId ? ` <span class="opid">${escapeHtml(op.operationId)}</span>` : ""}</p>` +
    prose(op.description) + security(op) + parameters(doc, op) +
    (op.requestBody ? `<h4>Request body${op.requestBody.required ? "" : " (optional)"}</h4>${prose(op.requestBody.description)}${content(doc, op.requestBody.content)}` : "") +
    `<h4>Responses</h4>${responses(doc, op)}</section>`;
}

/** The shared responses, each status with what it means, and the body they all have. */
function errors(doc, operations) {
  const shared = Object.entries(doc.components?.responses ?? {});
  if (shared.length === 0) return "";
  // A shared response has no status of its own: it has the one operations answer it under.
  const statuses = new Map(operations.flatMap(({ op }) => Object.entries(op.responses ?? {}).filter(([, r]) => r.$ref).map(([status, r]) => [refName(r.$ref), status])));
  const bodies = [...new Set(shared.flatMap(([, r]) => Object.values(r.content ?? {}).map((m) => JSON.stringify(m.schema))))].map((s) => JSON.parse(s));
  return `<h2 id="errors">Errors</h2><table class="fields"><tbody>${shared.map(([name, r]) =>
    `<tr><td><span class="status">${escapeHtml(statuses.get(name) ?? "")}</span> <code>${escapeHtml(name)}</code></td><td>${prose(r.description)}</td></tr>`).join("")}</tbody></table>` +
    bodies.map((schema) => schemaBlock(doc, schema)).join("");
}

/** The page for `doc`: `nav` (operations by tag) and `main` (each operation in full), as HTML. */
export function renderReference(doc) {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, op: item[method] })));
  const tags = [...(doc.tags ?? []).map((t) => t.name), "Other"];
  const tagOf = (op) => op.tags?.[0] ?? "Other";
  const groups = tags.map((tag) => ({ tag, members: operations.filter(({ op }) => tagOf(op) === tag) })).filter((g) => g.members.length > 0);
  const described = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
  const nav = groups.map(({ tag, members }) =>
    `<h2>${escapeHtml(tag)}</h2><ul>${members.map(({ path, method, op }) =>
      `<li><a href="#${anchor(op.operationId ?? `${method}-${path}`)}"><span class="method ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`).join("")}</ul>`).join("") +
    (doc.components?.responses ? '<h2>Errors</h2><ul><li><a href="#errors">error responses</a></li></ul>' : "");
  const main = `<header><h1>${escapeHtml(doc.info?.title ?? "API")} <span class="version">${escapeHtml(doc.info?.version ?? "")}</span></h1>${prose(doc.info?.description)}` +
    `<p>OpenAPI ${escapeHtml(doc.openapi ?? "")}: <a href="openapi.json">openapi.json</a></p></header>` +
    groups.map(({ tag, members }) => `<h2 id="tag-${anchor(tag)}">${escapeHtml(tag)}</h2>${prose(described.get(tag))}${members.map(({ path, method, op }) => operation(doc, path, method, op)).join("")}`).join("") +
    errors(doc, operations);
  return { nav, main };
}

/** Shows the operations whose method, path, summary or id contain what was typed, and their links. */
function filter(text) {
  const wanted = text.trim().toLowerCase();
  for (const section of document.querySelectorAll("section.operation")) section.hidden = wanted !== "" && !section.dataset.search.includes(wanted);
  for (const link of document.querySelectorAll("nav a")) link.parentElement.hidden = document.getElementById(link.hash.slice(1))?.hidden === true;
}

async function start() {
  const main = document.getElementById("main");
  try {
    const response = await fetch("openapi.json", { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`openapi.json answered ${response.status}`);
    const page = renderReference(await response.json());
    document.getElementById("operations").innerHTML = page.nav;
    main.innerHTML = page.main;
    document.getElementById("filter").addEventListener("input", (event) => filter(event.target.value));
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  } catch (error) {
    main.textContent = `The document could not be read: ${error.message}`;
  }
}

if (typeof document !== "undefined") void start();
