/**
 * The models this gateway serves (GET /v1/models): each pinned file's digest, its host's state, load and restarts
 * (GET /v1/admin/overview, when metrics are on), and the adapters adaptation would apply on it
 * (GET /v1/admin/adaptation, the signed-in key's tenant, when adaptation is on).
 */
import { getJson } from "./api.js";
import { bytes, h, number, section, table } from "./dom.js";

export async function show(container, _route, signal) {
  container.replaceChildren(h("h1", {}, "Models"), h("p", { class: "muted" }, "Loading…"));
  const optional = (path) => getJson(path, signal).catch(() => null);
  const [list, overview, adaptation] = await Promise.all([getJson("/v1/models", signal), optional("/v1/admin/overview"), optional("/v1/admin/adaptation")]);
  if (signal.aborted) return;
  const hosts = new Map((overview?.metrics_enabled ? overview.models : []).map((model) => [model.id, model]));
  const adapters = new Map();
  for (const entry of adaptation?.classes ?? []) {
    for (const model of entry.models) {
      if (model.adapter === null) continue;
      const named = `${model.adapter.id} v${model.adapter.version} (${entry.task_class})`;
      adapters.set(model.model, [...(adapters.get(model.model) ?? []), named]);
    }
  }
  const served = list.data.filter((model) => model.atomic?.sha256 !== undefined);
  const auto = list.data.find((model) => model.id === "auto");
  container.replaceChildren(
    h("h1", {}, "Models"),
    section("Served", table([
      ["Model", (m) => h("span", { "data-model": m.id }, m.id, m.atomic.test_model ? h("span", { class: "warn" }, " (test model: noise)") : "")],
      ["State", (m) => h("span", { class: m.atomic.state === "ready" ? "ok" : m.atomic.state === "failed" ? "failure" : "warn" }, m.atomic.state, m.atomic.reason ? `: ${m.atomic.reason}` : "")],
      ["SHA-256", (m) => h("code", {}, m.atomic.sha256)],
      ["Size", (m) => bytes(m.atomic.size_bytes)],
      ["Context", (m) => number(m.atomic.context_length)],
      ["Capabilities", (m) => m.atomic.capabilities.join(", ")],
      ["Host: queue / in flight", (m) => (hosts.has(m.id) ? `${number(hosts.get(m.id).queued)} / ${number(hosts.get(m.id).in_flight)}` : "—")],
      ["Host restarts", (m) => (hosts.has(m.id) ? number(hosts.get(m.id).restarts) : "—")],
      ["Adapters", (m) => (adapters.get(m.id) ?? []).join(", ") || "none"],
      ["Cost (per 1k tokens in / out)", (m) => `${m.atomic.cost.per_1k_prompt_tokens} / ${m.atomic.cost.per_1k_completion_tokens} ${m.atomic.cost.unit}`],
    ], served, "No model is served.")),
    auto === undefined ? null : section("auto", h("p", {}, `Bidding chooses among ${auto.atomic.candidates.join(", ") || "no model"} for ${auto.atomic.capabilities.join(", ")}.`)),
  );
}
