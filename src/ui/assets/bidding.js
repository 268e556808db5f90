/**
 * What the learners believe: bidding's state per model (GET /v1/admin/bidding); over a recent window, per task class
 * and model what bidding predicted beside what was observed, and per span of time what it chose, the predicted
 * quality it gave up (regret), cost and the quality observed (GET /v1/admin/bidding/history); and per task class and
 * model what adaptation learned and would apply now (GET /v1/admin/adaptation, the signed-in key's tenant).
 * The window and the tenant live in the hash (#/bidding?window=7d&tenant=…).
 */
import { ApiError, getJson, query } from "./api.js";
import { facts, figure, h, json, milliseconds, number, percent, section, svg, table, time } from "./dom.js";

/** The windows offered: [name, label, hours, buckets]. */
const WINDOWS = [
  ["24h", "last 24 hours", 24, 24],
  ["7d", "last 7 days", 168, 28],
  ["30d", "last 30 days", 720, 30],
];

const quality = (value) => number(value, 3);
const observed = (o) => (o.count === 0 ? "—" : `${number(o.mean, 3)} (${number(o.count)})`);
/** Predicted minus observed, signed: positive when the learner expected more than it got. */
function gap(predicted, o) {
  if (predicted === null || o.count === 0) return "—";
  const difference = predicted - o.mean;
  return `${difference > 0 ? "+" : difference < 0 ? "−" : "±"}${number(Math.abs(difference), 3)}`;
}
const shares = (models) => models.map((m) => `${m.model} ${percent(m.share)}`).join(", ") || "—";

function go(params) {
  location.hash = `#/bidding${query(params)}`;
}

export async function show(container, route, signal) {
  const windowName = WINDOWS.some(([name]) => name === route.params.get("window")) ? route.params.get("window") : "24h";
  const tenant = route.params.get("tenant") ?? "";
  const [, windowLabel, hours, buckets] = WINDOWS.find(([name]) => name === windowName);
  const until = new Date();
  const since = new Date(until.getTime() - hours * 3_600_000);
  container.replaceChildren(h("h1", {}, "Bidding"), h("p", { class: "muted" }, "Loading…"));
  const [state, history, adaptation] = await Promise.all([
    getJson("/v1/admin/bidding", signal),
    getJson(`/v1/admin/bidding/history${query({ since: since.toISOString(), until: until.toISOString(), buckets, tenant })}`, signal),
    getJson("/v1/admin/adaptation", signal).catch((error) => {
      if (error instanceof ApiError && error.code === "adaptation_disabled") return null;
      throw error;
    }),
  ]);
  if (signal.aborted) return;
  const models = Object.entries(state.models).map(([id, model]) => ({ id, ...model })).sort((a, b) => a.id.localeCompare(b.id));

  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    go({ window: data.get("window"), tenant: String(data.get("tenant")).trim() });
  } },
    h("label", {}, "Window", h("select", { name: "window" }, WINDOWS.map(([name, label]) => h("option", { value: name, selected: name === windowName }, label)))),
    h("label", {}, "Tenant", h("input", { name: "tenant", value: tenant, placeholder: "every tenant", size: 14 })),
    h("button", { type: "submit" }, "Apply"));
  const scope = `${windowLabel}, ${history.tenant === null ? "every tenant" : `tenant ${history.tenant}`}`;

  container.replaceChildren(
    h("h1", {}, "Bidding"),
    section("The learner", facts([
      ["Learner", `${state.learner} (${state.policy})`],
      ["Learning", state.frozen ? h("span", { class: "warn" }, "frozen: it chooses on what it learned and learns nothing more") : "yes"],
      ["Epoch", `${state.epoch} (resets so far)`],
      ["Saved version", `${state.version}${state.unsavedUpdates > 0 ? `, ${state.unsavedUpdates} updates not yet saved` : ""}`],
      ["Features", h("code", {}, state.features)],
      ["Quality calibration", number(state.qualityCalibration, 3)],
    ])),
    section("What it believes of each model", table([
      ["Model", (m) => m.id],
      ["Outcomes learned", (m) => number(m.observations)],
      ["Prefill per 1,000 tokens", (m) => milliseconds(m.msPerPromptToken * 1000)],
      ["Generation per 1,000 tokens", (m) => milliseconds(m.msPerCompletionToken * 1000)],
    ], models, "Nothing learned yet."),
    h("p", { class: "muted" }, "Each decision's bids, with the predicted quality of every model for that request, are on the execution's page.")),
    form,
    beliefs(history, scope),
    overTime(history, scope),
    adaptation === null
      ? section("Per task class", h("p", { class: "muted" }, "Adaptation is off on this gateway (adaptation.enabled: false)."))
      : section(`Per task class (tenant ${adaptation.tenant})`, adaptation.classes.length === 0 ? h("p", { class: "muted" }, "No task class learned yet.") : adaptation.classes.map((entry) =>
        h("div", { class: "task-class", "data-task-class": entry.task_class },
          h("h3", {}, h("code", {}, entry.task_class), h("span", { class: "muted" }, ` ${number(entry.feedback)} judged, ${number(entry.rated)} rated`)),
          table([
            ["Model", (m) => m.model],
            ["Strategies now", (m) => m.strategies.join(", ") || "none"],
            ["Preset", (m) => m.preset ?? "operator's defaults"],
            ["max_tokens", (m) => m.max_tokens ?? "—"],
            ["Adapter", (m) => (m.adapter === null ? "none" : `${m.adapter.id} v${m.adapter.version}`)],
            ["Learned", (m) => json("details", m.learned)],
          ], entry.models)))),
  );
}

/** Per task class and model: the learner's predictions beside what its choices got. */
function beliefs(history, scope) {
  const rows = history.classes;
  const body = rows.length === 0 ? h("p", { class: "muted" }, "No decision in this window.") : h("table", {},
    h("thead", {}, h("tr", {}, ["Task class", "Model", "Bids", "Predicted quality", "Chosen", "Predicted when chosen", "Outcome (n)", "Feedback (n)", "Predicted − feedback"].map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", { "data-task-class": row.task_class, "data-model": row.model },
      h("td", {}, h("code", {}, row.task_class)),
      h("td", {}, row.model),
      h("td", {}, number(row.bids)),
      h("td", {}, quality(row.predicted_quality)),
      h("td", {}, number(row.chosen)),
      h("td", {}, quality(row.chosen_predicted_quality)),
      h("td", {}, observed(row.outcome)),
      h("td", {}, observed(row.feedback)),
      h("td", {}, gap(row.chosen_predicted_quality, row.feedback))))));
  return h("section", { class: "panel", "data-section": "beliefs" },
    h("h2", {}, "What it believes per task class", h("span", { class: "updated" }, scope)),
    body,
    h("p", { class: "muted" }, "Predicted quality: the mean of the model's eligible bids for the class, what the learner expected of it. " +
      "Outcome: the reward it learned (automatic, combined with feedback); feedback: the latest score people gave. " +
      "A predicted quality well above what was observed means the learner overrates the model for that class."));
}

/** Per span of time: decisions, what the choice gave up in predicted quality, cost, and the quality observed. */
function overTime(history, scope) {
  const { totals } = history;
  const used = history.buckets.filter((bucket) => bucket.decisions > 0);
  return h("section", { class: "panel", "data-section": "history" },
    h("h2", {}, "Over time", h("span", { class: "updated" }, scope)),
    h("div", { class: "figures" },
      figure("history-decisions", "Decisions", number(totals.decisions), `${number(totals.explored)} explored`),
      figure("history-regret", "Regret in predicted quality", quality(totals.predicted_quality.regret), `chosen ${quality(totals.predicted_quality.chosen)}, best ${quality(totals.predicted_quality.best)}`),
      figure("history-cost", "Predicted cost", number(totals.cost.chosen, 4), `cheapest ${number(totals.cost.cheapest, 4)}`),
      figure("history-outcome", "Outcome", totals.outcome.count === 0 ? "—" : quality(totals.outcome.mean), `${number(totals.outcome.count)} recorded`),
      figure("history-feedback", "Feedback", totals.feedback.count === 0 ? "—" : quality(totals.feedback.mean), `${number(totals.feedback.count)} judged`),
      figure("history-models", "Share of calls", shares(totals.models))),
    totals.decisions === 0 ? h("p", { class: "muted" }, "No decision in this window.") : [
      chart(history.buckets),
      table([
        ["From", (b) => time(b.start)],
        ["Decisions", (b) => number(b.decisions)],
        ["Models", (b) => shares(b.models)],
        ["Predicted, chosen", (b) => quality(b.predicted_quality.chosen)],
        ["Predicted, best", (b) => quality(b.predicted_quality.best)],
        ["Regret", (b) => quality(b.predicted_quality.regret)],
        ["Cost, chosen / cheapest", (b) => `${number(b.cost.chosen, 4)} / ${number(b.cost.cheapest, 4)}`],
        ["Outcome (n)", (b) => observed(b.outcome)],
        ["Feedback (n)", (b) => observed(b.feedback)],
      ], used),
      h("p", { class: "muted" }, `Buckets of ${bucketLength(history.bucket_seconds)}; those without a decision are left out of the table.`),
    ]);
}

function bucketLength(seconds) {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  return `${number(seconds / 60, 1)} minutes`;
}

/** Series drawn on the chart: [name, label, value of a bucket]; qualities all lie in [0, 1]. */
const SERIES = [
  ["chosen", "predicted, chosen", (b) => b.predicted_quality.chosen],
  ["best", "predicted, best bid", (b) => b.predicted_quality.best],
  ["outcome", "outcome", (b) => (b.outcome.count === 0 ? null : b.outcome.mean)],
  ["feedback", "feedback", (b) => (b.feedback.count === 0 ? null : b.feedback.mean)],
];

/** Quality per bucket as lines on [0, 1], decisions as bars behind them: inline SVG, built node by node. */
function chart(buckets) {
  const width = 720;
  const height = 180;
  const left = 34;
  const right = 8;
  const top = 8;
  const bottom = 20;
  const step = (width - left - right) / buckets.length;
  const x = (i) => left + step * (i + 0.5);
  const y = (value) => top + (1 - value) * (height - top - bottom);
  const most = Math.max(1, ...buckets.map((b) => b.decisions));
  const bars = buckets.map((b, i) => (b.decisions === 0 ? null : svg("rect", {
    class: "bar-decisions", x: (left + step * i + step * 0.1).toFixed(1), width: (step * 0.8).toFixed(1),
    y: (height - bottom - (b.decisions / most) * (height - top - bottom)).toFixed(1), height: ((b.decisions / most) * (height - top - bottom)).toFixed(1),
  }, svg("title", {}, `${time(b.start)}: ${b.decisions} decisions`))));
  const lines = SERIES.flatMap(([name, label, value]) => {
    // Runs of buckets with a value, each a polyline; a lone point is a dot.
    const runs = [];
    let run = [];
    buckets.forEach((b, i) => {
      const v = value(b);
      if (v === null || v === undefined) {
        if (run.length > 0) runs.push(run);
        run = [];
      } else run.push([x(i), y(v), b, v]);
    });
    if (run.length > 0) runs.push(run);
    return runs.map((points) => (points.length === 1
      ? svg("circle", { class: `series series-${name}`, cx: points[0][0].toFixed(1), cy: points[0][1].toFixed(1), r: 3, "data-series": name }, svg("title", {}, `${label} ${quality(points[0][3])}`))
      : svg("polyline", { class: `series series-${name}`, points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), "data-series": name }, svg("title", {}, label))));
  });
  const grid = [0, 0.5, 1].map((v) => [
    svg("line", { class: "grid", x1: left, x2: width - right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }),
    svg("text", { class: "axis", x: left - 4, y: (y(v) + 4).toFixed(1), "text-anchor": "end" }, number(v, 1)),
  ]);
  const labels = [0, buckets.length - 1].map((i) => svg("text", { class: "axis", x: x(i).toFixed(1), y: height - 4, "text-anchor": i === 0 ? "start" : "end" }, time(buckets[i].start).slice(5, 16)));
  return h("figure", { class: "chart" },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Predicted and observed quality per bucket, decisions as bars" }, grid, bars, lines, labels),
    h("figcaption", { class: "legend" },
      h("span", { class: "key key-decisions" }, "decisions (bars, scaled to the busiest bucket)"),
      SERIES.map(([name, label]) => h("span", { class: `key key-${name}` }, label))));
}
