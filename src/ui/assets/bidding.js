/**
 * What the learners believe: bidding's state per model (GET /v1/admin/bidding), and per task class and model what
 * adaptation learned and would apply now (GET /v1/admin/adaptation, the signed-in key's tenant).
 */
import { ApiError, getJson } from "./api.js";
import { facts, h, json, milliseconds, number, section, table } from "./dom.js";

export async function show(container, _route, signal) {
  container.replaceChildren(h("h1", {}, "Bidding"), h("p", { class: "muted" }, "Loading…"));
  const [state, adaptation] = await Promise.all([
    getJson("/v1/admin/bidding", signal),
    getJson("/v1/admin/adaptation", signal).catch((error) => {
      if (error instanceof ApiError && error.code === "adaptation_disabled") return null;
      throw error;
    }),
  ]);
  if (signal.aborted) return;
  const models = Object.entries(state.models).map(([id, model]) => ({ id, ...model })).sort((a, b) => a.id.localeCompare(b.id));
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
