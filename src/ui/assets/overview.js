/** The live overview: GET /v1/admin/overview every few seconds, while the view is open and the tab visible. */
import { describeFailure, getJson } from "./api.js";
import { every, facts, figure, h, number, percent, seconds, section, table, time } from "./dom.js";

export const REFRESH_MS = 3000;

export function show(container, _route, signal) {
  const updated = h("span", { class: "updated" });
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  container.replaceChildren(h("h1", {}, "Overview", updated), body);
  every(REFRESH_MS, signal, async () => {
    try {
      const overview = await getJson("/v1/admin/overview", signal);
      if (signal.aborted) return;
      body.replaceChildren(...render(overview));
      updated.textContent = `updated ${time(new Date().toISOString())}, every ${REFRESH_MS / 1000} s`;
    } catch (error) {
      if (!signal.aborted) updated.textContent = `not updated: ${describeFailure(error)}`;
    }
  });
}

function render(overview) {
  if (!overview.metrics_enabled) {
    return [h("p", { class: "panel" }, "Metrics are off on this gateway (metrics.enabled: false): there are no figures to show. The other views work as before.")];
  }
  const { traffic, audit, policy } = overview;
  const span = `over the last ${seconds(overview.window_seconds)}`;
  const tokens = overview.models.reduce((sum, model) => sum + model.tokens_per_second, 0);
  return [
    h("div", { class: "figures" },
      figure("requests-per-second", "Requests / s", number(traffic.requests_per_second, 2), `${number(traffic.requests)} ${span}`),
      figure("error-share", "Errors", percent(traffic.error_share), `${number(traffic.errors)} of ${number(traffic.requests)} answered 400 or more`),
      figure("latency-p50", "Latency p50", seconds(traffic.latency_seconds.p50), "to the response headers"),
      figure("latency-p90", "Latency p90", seconds(traffic.latency_seconds.p90)),
      figure("latency-p99", "Latency p99", seconds(traffic.latency_seconds.p99)),
      figure("tokens-per-second", "Tokens / s", number(tokens, 1), "generated, all models"),
      figure("queued", "Queued", number(overview.models.reduce((sum, model) => sum + (model.queued ?? 0), 0)), "requests waiting for a model"),
    ),
    section(`Models (${span})`, table([
      ["Model", (m) => h("a", { href: `#/executions?model=${encodeURIComponent(m.id)}` }, m.id)],
      ["State", (m) => h("span", { class: m.state === "ready" ? "ok" : m.state === "failed" ? "failure" : "warn" }, m.state ?? "—")],
      ["Queue", (m) => number(m.queued)],
      ["In flight", (m) => number(m.in_flight)],
      ["Tokens / s", (m) => number(m.tokens_per_second, 1)],
      ["One generation, tokens / s (p50)", (m) => number(m.generation_tokens_per_second_p50, 1)],
      ["Queue wait p90", (m) => seconds(m.queue_wait_seconds_p90)],
      ["Executions", (m) => number(m.executions)],
      ["Failures", (m) => number(m.failures)],
      ["Host restarts", (m) => number(m.restarts)],
    ], overview.models, "No model is hosted.")),
    h("div", { class: "columns" },
      section(`Errors (${span}, every route)`, table([
        ["Status", (e) => e.status],
        ["Code", (e) => h("code", {}, e.code)],
        ["Count", (e) => number(e.count)],
      ], overview.errors, "No error answers.")),
      section(`Bidding decisions (${span})`, table([
        ["Model", (b) => b.model],
        ["Exploit", (b) => number(b.exploit)],
        ["Explore", (b) => number(b.explore)],
      ], overview.bidding, "No request was bid for.")),
      section(`Policy (${span})`, facts([
        ["Sent as they were", number(policy.send)],
        ["Sent redacted", number(policy.redact)],
        ["Refused", number(policy.deny)],
        ...policy.denials.map((denial) => [h("code", {}, denial.reason), `${number(denial.count)} refused`]),
      ])),
      section("Audit log", facts([
        ["Waiting to be sequenced", audit.queued === null ? "—" : `${number(audit.queued)} events`],
        ["Oldest waiting", seconds(audit.lag_seconds)],
        ["Latest checkpoint", audit.checkpoint_size === null ? "none yet" : `${number(audit.checkpoint_size)} leaves, ${seconds(audit.checkpoint_age_seconds)} old`],
        ["Sequencer", audit.leader === null ? "—" : audit.leader ? "this gateway leads" : "another gateway leads"],
      ])),
    ),
  ];
}
