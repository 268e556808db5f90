/**
 * One execution (GET /v1/admin/executions/:id): the record, the decision record (every bid, and why one won), the
 * adaptation record and the policy decision it stored, and its audit receipt verified here, in the browser, against
 * the signed checkpoint (verify.js).
 */
import { ApiError, describeFailure, getJson, getText } from "./api.js";
import { facts, h, json, milliseconds, number, section, time } from "./dom.js";
import { trustedKey, verifyCheckpoint, verifyReceipt, VerifyError } from "./verify.js";

/** A receipt asked for just after the request may wait for the sequencer (every few ms): a few retries cover it. */
const RECEIPT_ATTEMPTS = 20;
const RETRY_MS = 250;

export async function show(container, route, signal) {
  const id = route.id;
  container.replaceChildren(h("h1", {}, "Execution"), h("p", { class: "muted" }, "Loading…"));
  let record;
  try {
    record = await getJson(`/v1/admin/executions/${encodeURIComponent(id)}`, signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      container.replaceChildren(h("h1", {}, "Execution"), h("p", { class: "failure" }, `No execution ${id}: ${error.message}.`));
      return;
    }
    throw error;
  }
  if (signal.aborted) return;
  const receipt = h("div", { id: "receipt" });
  container.replaceChildren(
    h("h1", {}, "Execution ", h("code", {}, record.id)),
    h("p", {}, h("a", { href: "#/executions" }, "← all executions")),
    section("Record", summary(record)),
    section("Audit receipt", receipt),
    section("Decision record", decision(record.decision)),
    h("div", { class: "columns" },
      section("Adaptation", adaptation(record.parameters?.adaptation)),
      section("Policy decision", policy(record.parameters?.policy))),
    section("Stored content", content(record)),
  );
  await verifyInBrowser(receipt, record.id, signal);
}

function summary(record) {
  return facts([
    ["Tenant", record.actor.tenant],
    ["Caller", h("code", {}, record.actor.subject)],
    ["Endpoint", record.endpoint],
    ["Model", [record.model, " ", h("code", { class: "muted", title: "SHA-256 of the model file" }, record.model_sha256)]],
    ["Status", h("span", { class: `status-${record.status}` }, record.error_code === null ? record.status : `${record.status}: ${record.error_code}`)],
    ["Tokens", `${number(record.usage.prompt_tokens)} in, ${number(record.usage.completion_tokens)} out`],
    ["Took", `${milliseconds(record.timings_ms.total)} (queue ${milliseconds(record.timings_ms.queue)}, inference ${milliseconds(record.timings_ms.inference)})`],
    ["Created", time(record.created_at)],
    ["Completed", time(record.completed_at)],
    ["Request id", h("code", {}, record.request_id)],
    ["Trace", record.trace_id === null ? null : h("code", {}, record.trace_id)],
    ["Schema", record.schema === null ? null : `${record.schema.name} v${record.schema.version}`],
    ["Content erased", record.content_erased === null ? null : `${time(record.content_erased.at)} (audit event ${record.content_erased.audit_event_id})`],
  ]);
}

function decision(record) {
  if (record === null) return h("p", { class: "muted" }, "None: the caller named the model, so nothing was bid for.");
  const { criteria } = record;
  return [
    facts([
      ["Learner", `${record.policy.name}${record.policy.frozen ? " (frozen)" : ""}, epoch ${record.policy.epoch}`],
      ["Planner", record.planner],
      ["Weights", Object.entries(criteria.weights).map(([name, weight]) => `${name} ${number(weight, 2)}`).join(", ")],
      ["Constraints", Object.entries(criteria.constraints).filter(([, value]) => value !== null && value !== undefined).map(([name, value]) => `${name} ${value}`).join(", ") || "none"],
      ["Quality target", criteria.qualityTarget === null || criteria.qualityTarget === undefined ? null : `${number(criteria.qualityTarget, 2)} (slack ${number(criteria.qualitySlack, 3)})`],
    ]),
    record.microtasks.map((microtask) => h("div", { class: "microtask", "data-microtask": microtask.id },
      h("h3", {}, `Microtask ${microtask.id}`, h("span", { class: "muted" }, ` ${microtask.kind}, ${microtask.executor}${microtask.features ? `, ${microtask.features.taskType}, ${microtask.features.inputTokens} tokens in` : ""}`)),
      microtask.choice === null
        ? h("p", { class: "muted" }, "A local step: not bid on.")
        : [
            h("p", { class: "choice" }, h("strong", {}, `Won by ${microtask.choice.model}`), ` (${microtask.choice.mode}): ${microtask.choice.reason}.`,
              microtask.choice.greedyModel !== microtask.choice.model ? ` The best prediction was ${microtask.choice.greedyModel}'s.` : ""),
            bids(microtask),
            (microtask.choice.explanation ?? []).map(explanation),
          ],
    )),
  ];
}

/** N-grams that moved a model's prediction, or, with embedding features, the past requests most like this one. */
function explanation(explained) {
  if (explained.neighbours !== undefined) {
    return h("p", { class: "muted" }, `Requests most like this one that ${explained.model} answered: `,
      explained.neighbours.length === 0 ? "none kept yet" : explained.neighbours.map((n, i) => [i > 0 ? ", " : "",
        h("a", { href: `#/executions/${encodeURIComponent(n.execution)}` }, n.execution.slice(0, 8)), ` scored ${number(n.reward, 2)} (similarity ${number(n.similarity, 2)})`]));
  }
  return h("p", { class: "muted" }, `What moved the prediction for ${explained.model}: `,
    (explained.terms ?? []).map((term) => `“${term.text}” ${term.weight > 0 ? "+" : ""}${number(term.weight, 2)}`).join(", "));
}

function bids(microtask) {
  const chosen = microtask.choice.model;
  return h("table", { class: "bids" },
    h("thead", {}, h("tr", {}, ["Model", "Eligible", "Predicted quality", "Upper bound", "Seen", "Cost", "Latency", "Score", "Exploring score"].map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, microtask.bids.map((bid) => h("tr", { class: bid.model === chosen ? "chosen" : null, "data-model": bid.model },
      h("td", {}, bid.model, bid.model === chosen ? " ✓" : ""),
      h("td", {}, bid.eligible ? "yes" : h("span", { class: "failure" }, `no: ${bid.excludedBy.join(", ")}`)),
      h("td", {}, number(bid.confidence, 3)),
      h("td", {}, number(bid.confidenceUpper, 3)),
      h("td", {}, number(bid.observations)),
      h("td", {}, `${number(bid.cost, 4)} ${bid.costUnit}`),
      h("td", {}, milliseconds(bid.latencyMs)),
      h("td", {}, number(bid.score, 3)),
      h("td", {}, number(bid.optimisticScore, 3)),
    ))));
}

function adaptation(record) {
  if (record === undefined || record === null) return h("p", { class: "muted" }, "None stored: adaptation was off, or had nothing to do for this request.");
  return facts([
    ["Task class", h("code", {}, record.taskClass)],
    ["Mode", record.mode],
    ["Strategies applied", record.strategies.join(", ") || "none"],
    ["Could have applied", record.eligible.join(", ") || "none"],
    ["Sampling preset", record.preset],
    ["Values from", Object.entries(record.sources).map(([name, source]) => `${name}: ${source}`).join(", ")],
    ["Adapter", record.adapter === null ? "none" : `${record.adapter.id} v${record.adapter.version}`],
    ["Exemplars", record.exemplars.length === 0 ? "none" : `${record.exemplars.length} (${number(record.exemplarTokens)} tokens)`],
    ["Automatic reward", record.reward.automatic === null ? "—" : `${number(record.reward.automatic, 3)}${record.reward.learned ? ", learned" : ""}`],
  ]);
}

function policy(record) {
  if (record === undefined || record === null) return h("p", { class: "muted" }, "None stored with this execution.");
  return facts([
    ["Decision", record.redacted ? `${record.decision}, with PII replaced by placeholders` : record.decision],
    ["Classification", record.classification],
    ["PII found", record.piiKinds.length === 0 ? "none" : record.piiKinds.join(", ")],
    ["Declared purpose", record.purpose || "none"],
    ["Policy set", h("code", {}, record.hash)],
  ]);
}

function content(record) {
  const { adaptation: _a, policy: _p, ...parameters } = record.parameters ?? {};
  return [json("Parameters", parameters), json("Input", record.input), json("Output", record.output)];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The log's keys, its latest signed checkpoint (its signature checked first), then the receipt for exactly that
 * tree, checked against it. An execution sequenced after the checkpoint fetched asks again with a newer one.
 */
async function verifyInBrowser(panel, id, signal) {
  const say = (state, title, text) => panel.replaceChildren(h("div", { class: `verdict ${state}`, "data-verdict": state }, h("strong", {}, title), text));
  say("muted", "Checking…", "the log's public keys, its signed checkpoint and this execution's receipt.");
  try {
    const { keys } = await getJson("/v1/admin/audit/keys", signal);
    // Only the current key vouches for the latest tree: the gateway does not say where retired keys were retired.
    const trusted = await Promise.all(keys.map((key) => trustedKey(key.jwk, { retired: !key.current })));
    for (let attempt = 1; ; attempt++) {
      const note = await getText("/v1/audit/checkpoint", signal).catch(waitable);
      const checked = note === null ? null : await verifyCheckpoint(note, trusted);
      const receipt = checked === null ? null : await getJson(`/v1/audit/receipt/${encodeURIComponent(id)}?tree_size=${checked.checkpoint.size}`, signal).catch(waitable);
      if (receipt !== null) {
        const proved = await verifyReceipt(receipt, note, id);
        if (signal.aborted) return;
        const { signer } = checked;
        say("ok", "Verified in this browser.",
          `Event ${proved.eventId} (${proved.kind}) is leaf ${proved.index} of the log's tree of ${proved.treeSize} leaves: its inclusion proof ` +
          `(${proved.proofLength} hashes) leads to the root ${proved.root}, which the checkpoint signed by ${signer.name} ` +
          `(key id ${signer.keyIdHex}, ${signer.fingerprint}) names. The key is the one the gateway lists: compare its fingerprint with the one you were given.`);
        return;
      }
      if (attempt === RECEIPT_ATTEMPTS) {
        say("failure", "Not yet in the log.", `The execution's audit event was not in a signed checkpoint after ${attempt} tries: the sequencer may be behind (see Audit).`);
        return;
      }
      await sleep(RETRY_MS);
      if (signal.aborted) return;
    }
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof VerifyError) say("failure", "Not verified.", `${error.code}: ${error.message}`);
    else say("failure", "Could not check.", describeFailure(error));
  }
}

/** Null for the answers that only mean "not yet": no checkpoint, the event still queued or sequenced after it. */
function waitable(error) {
  if (error instanceof ApiError && ["audit_log_empty", "audit_event_pending", "audit_event_not_in_tree"].includes(error.code)) return null;
  throw error;
}
