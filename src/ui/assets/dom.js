/**
 * Building the page without HTML strings: every text the gateway sends is set as text, never parsed as markup, so
 * nothing stored (a tenant name, a model's reason, a refusal's reason) can become script. The page's policy
 * (Trusted Types, src/ui/route.ts) refuses HTML strings anyway.
 */

/** An element: attributes (`on…` are listeners, `false`/null/undefined are left out) and children (nodes or text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** An SVG element, as h() makes HTML ones (attributes only, no listeners): charts drawn without markup strings. */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, String(value));
  }
  return append(element, children);
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A table of `rows`, one column per [heading, cell(row)]; a line saying `empty` when there are none. */
export function table(columns, rows, empty = "none") {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

/** A titled figure, found by tests and people alike by its name. */
export const figure = (name, label, value, note) =>
  h("div", { class: "figure", "data-figure": name }, h("span", { class: "label" }, label), h("span", { class: "value" }, value), note ? h("span", { class: "note" }, note) : null);

/** Terms and their descriptions: [term, value] pairs, the empty ones left out. */
export const facts = (pairs) =>
  h("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));

export const section = (title, ...children) => h("section", { class: "panel" }, h("h2", {}, title), ...children);

export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export const percent = (share) => (share === null || share === undefined ? "—" : `${number(share * 100, 1)} %`);

/** A duration given in seconds, in the unit that reads best. */
export function seconds(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value < 1) return `${number(value * 1000, value < 0.01 ? 2 : 0)} ms`;
  if (value < 120) return `${number(value, 1)} s`;
  if (value < 7200) return `${number(value / 60, 1)} min`;
  return `${number(value / 3600, 1)} h`;
}

export const milliseconds = (value) => seconds(value === null || value === undefined ? value : value / 1000);

/** An instant in the viewer's time zone, to the second, as ISO 8601 reads (sortable, unambiguous). */
export function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function bytes(value) {
  if (value === null || value === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  let n = value;
  while (n >= 1000 && unit < units.length - 1) {
    n /= 1000;
    unit += 1;
  }
  return `${number(n, unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** A JSON value for reading, folded away until asked for. */
export const json = (summary, value) => h("details", { class: "json" }, h("summary", {}, summary), h("pre", {}, JSON.stringify(value, null, 2)));

/** Runs `task` now and then every `everyMs` until `signal` aborts; skipped while the tab is hidden. */
export function every(everyMs, signal, task) {
  let timer;
  const run = async () => {
    if (signal.aborted) return;
    if (document.visibilityState !== "hidden") await task();
    if (!signal.aborted) timer = setTimeout(run, everyMs);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  void run();
}
