/**
 * Every tenant's executions, newest first (GET /v1/admin/executions): filters and the page's cursor live in the
 * hash (#/executions?model=…&status=…&cursor=…), so a filtered page can be reloaded, bookmarked and gone back to.
 */
import { getJson, query } from "./api.js";
import { h, milliseconds, number, table, time } from "./dom.js";

const FILTERS = ["tenant", "model", "status", "from", "to", "limit"];
const PAGE_SIZES = ["25", "50", "100", "200"];

/** The cursors of the pages before this one, for "Newer": keyset pages only know the way forward. */
let earlier = { filters: "", cursors: [] };

const pad = (n) => String(n).padStart(2, "0");
/** An ISO instant as a datetime-local input shows it: the viewer's time zone, to the minute. */
function localInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function go(params) {
  location.hash = `#/executions${query(params)}`;
}

export async function show(container, route, signal) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, route.params.get(name) ?? ""]));
  const cursor = route.params.get("cursor") ?? "";
  const signature = JSON.stringify(filters);
  if (earlier.filters !== signature || cursor === "") earlier = { filters: signature, cursors: [] };

  const models = h("datalist", { id: "known-models" });
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const instant = (name) => (data.get(name) ? new Date(String(data.get(name))).toISOString() : "");
    go({ tenant: String(data.get("tenant")).trim(), model: String(data.get("model")).trim(), status: data.get("status"), from: instant("from"), to: instant("to"), limit: data.get("limit") });
  } },
    h("label", {}, "Tenant", h("input", { name: "tenant", value: filters.tenant, placeholder: "any", size: 14 })),
    h("label", {}, "Model", h("input", { name: "model", value: filters.model, placeholder: "any", list: "known-models", size: 18 })),
    h("label", {}, "Status", h("select", { name: "status" },
      ["", "succeeded", "failed"].map((status) => h("option", { value: status, selected: status === filters.status }, status || "any")))),
    h("label", {}, "From", h("input", { name: "from", type: "datetime-local", value: filters.from ? localInput(filters.from) : "" })),
    h("label", {}, "To", h("input", { name: "to", type: "datetime-local", value: filters.to ? localInput(filters.to) : "" })),
    h("label", {}, "Per page", h("select", { name: "limit" },
      PAGE_SIZES.map((size) => h("option", { value: size, selected: size === (filters.limit || "50") }, size)))),
    h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", onclick: () => go({}) }, "Clear"),
    models,
  );
  const results = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  container.replaceChildren(h("h1", {}, "Executions"), form, results);

  // The model names for the filter's suggestions; the list itself does not wait for them.
  getJson("/v1/models", signal).then((list) => {
    models.replaceChildren(...list.data.filter((model) => model.id !== "auto").map((model) => h("option", { value: model.id })));
  }, () => undefined);

  const page = await getJson(`/v1/admin/executions${query({ ...filters, cursor })}`, signal);
  if (signal.aborted) return;
  const pageNumber = earlier.cursors.length + 1;
  results.replaceChildren(
    h("p", { class: "muted", "data-count": page.data.length }, page.data.length === 0 ? "No execution matches." : `Page ${pageNumber}: ${page.data.length} executions, newest first.`),
    table([
      ["Created", (e) => h("a", { href: `#/executions/${encodeURIComponent(e.id)}` }, time(e.created_at))],
      ["Tenant", (e) => e.tenant],
      ["Model", (e) => e.model],
      ["Endpoint", (e) => e.endpoint],
      ["Status", (e) => h("span", { class: `status-${e.status}` }, e.error_code === null ? e.status : `${e.status} (${e.error_code})`)],
      ["Tokens", (e) => number(e.usage.total_tokens)],
      ["Took", (e) => milliseconds(e.total_ms)],
      ["Id", (e) => h("code", {}, e.id)],
    ], page.data, ""),
    h("div", { class: "pager" },
      h("button", { type: "button", disabled: pageNumber === 1, onclick: () => {
        const previous = earlier.cursors.pop();
        go({ ...filters, cursor: previous });
      } }, "← Newer"),
      h("button", { type: "button", disabled: page.next_cursor === null, onclick: () => {
        earlier.cursors.push(cursor);
        go({ ...filters, cursor: page.next_cursor });
      } }, "Older →"),
    ),
  );
}
