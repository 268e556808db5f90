/**
 * The audit log's health (GET /v1/admin/audit): the latest signed checkpoint, its signature checked here, and,
 * when this tab saw an earlier checkpoint, the consistency proof that the log only grew since (GET
 * /v1/audit/consistency, checked here); the sequencer's backlog; the requests the policy refused.
 */
import { describeFailure, getJson } from "./api.js";
import { facts, h, number, seconds, section, table, time } from "./dom.js";
import { fromBase64, trustedKey, verifyCheckpoint, verifyConsistency, VerifyError } from "./verify.js";

/** The last checkpoint this tab verified: what the next visit proves the log consistent with. */
const SEEN_KEY = "atomic.dashboard.checkpoint";

export async function show(container, _route, signal) {
  container.replaceChildren(h("h1", {}, "Audit"), h("p", { class: "muted" }, "Loading…"));
  const [state, { keys }] = await Promise.all([getJson("/v1/admin/audit", signal), getJson("/v1/admin/audit/keys", signal)]);
  if (signal.aborted) return;
  const { checkpoint, sequencer, refusals } = state;
  const signature = h("div", { id: "checkpoint-verdict" });
  const consistency = h("div", { id: "consistency-verdict" });
  container.replaceChildren(
    h("h1", {}, "Audit"),
    section("Latest signed checkpoint", checkpoint === null
      ? h("p", { class: "muted" }, "None yet: the sequencer has not signed a tree.")
      : [
          facts([
            ["Leaves", h("span", { "data-figure": "checkpoint-size" }, number(checkpoint.size))],
            ["Root", h("code", {}, checkpoint.root)],
            ["Signed", `${time(checkpoint.created_at)}, ${seconds(checkpoint.age_seconds)} ago`],
          ]),
          signature,
          consistency,
        ]),
    section("Sequencer", facts([
      ["Waiting to be sequenced", `${number(sequencer.queued)} events`],
      ["Oldest waiting", seconds(sequencer.oldest_queued_seconds)],
      ["Leadership", sequencer.leader ? "this gateway's sequencer leads" : "another gateway's sequencer leads"],
    ])),
    section("Signing keys", table([
      ["Name", (k) => h("code", {}, k.jwk.kid)],
      ["Key id", (k) => h("code", {}, k.key_id)],
      ["Fingerprint", (k) => h("code", {}, k.fingerprint)],
      ["", (k) => (k.current ? "signs now" : "retired")],
    ], keys), h("p", { class: "muted" }, "Checkpoints are verified against these keys, as the gateway lists them: compare the fingerprint with the one handed to auditors. " +
      "Only the key that signs now vouches for a new checkpoint here: the gateway does not say at which leaf a retired key was retired, so a tree it signed is for audit/verify.mjs --retired.")),
    section(`Policy refusals (leaves ${number(refusals.scanned.from)} to ${number(refusals.scanned.to)})`, table([
      ["When", (r) => time(r.time)],
      ["Tenant", (r) => r.tenant ?? "—"],
      ["Caller", (r) => (r.subject === null ? "—" : h("code", {}, r.subject))],
      ["Route", (r) => r.endpoint ?? "—"],
      ["Why", (r) => r.reason ?? "—"],
      ["Leaf", (r) => number(r.index)],
    ], refusals.data, "No request was refused by the policy among these leaves.")),
  );
  if (checkpoint !== null) await check(checkpoint, keys, signature, consistency, signal);
}

const verdict = (panel, state, title, text) => panel.replaceChildren(h("p", { class: `verdict ${state}`, "data-verdict": state }, h("strong", {}, title), text));

async function check(checkpoint, keys, signature, consistency, signal) {
  let trusted;
  let signer;
  try {
    trusted = await Promise.all(keys.map((key) => trustedKey(key.jwk, { retired: !key.current })));
    ({ signer } = await verifyCheckpoint(checkpoint.note, trusted));
    verdict(signature, "ok", "Signature verified in this browser:", ` signed by ${signer.name} (key id ${signer.keyIdHex}).`);
  } catch (error) {
    if (error instanceof VerifyError) verdict(signature, "failure", "Signature not verified:", ` ${error.code}: ${error.message}`);
    else throw error;
    return;
  }
  const seen = JSON.parse(sessionStorage.getItem(SEEN_KEY) ?? "null");
  try {
    if (seen === null) {
      verdict(consistency, "muted", "Consistency:", " the first checkpoint this tab has seen; on the next visit the log is proved to have only grown since.");
    } else if (seen.size > checkpoint.size) {
      throw new VerifyError("consistency_failed", `this tab saw a tree of ${seen.size} leaves, the log now signs one of ${checkpoint.size}: it shrank`);
    } else {
      const proof = await getJson(`/v1/audit/consistency?from=${seen.size}&to=${checkpoint.size}`, signal);
      if (proof.old_checkpoint !== seen.note) throw new VerifyError("consistency_failed", `the log's checkpoint of ${seen.size} leaves is not the one this tab saw`);
      // The tree this tab saw was verified then, signed by the key current then: that key, even if retired since,
      // vouches for exactly that checkpoint (its bytes compared above), and no other key does.
      const then = trusted.filter((key) => key.fingerprint === seen.key).map((key) => ({ ...key, retired: false, retiredAt: undefined }));
      const older = await verifyCheckpoint(proof.old_checkpoint, then.length > 0 ? then : trusted);
      const newer = await verifyCheckpoint(proof.new_checkpoint, trusted);
      const hashes = proof.proof.map((hash) => fromBase64(hash));
      if (proof.new_checkpoint !== checkpoint.note || hashes.some((hash) => hash === undefined || hash.length !== 32)
        || !(await verifyConsistency(seen.size, checkpoint.size, older.checkpoint.root, newer.checkpoint.root, hashes))) {
        throw new VerifyError("consistency_failed", `the proof does not show the tree of ${checkpoint.size} leaves extends the one of ${seen.size} this tab saw`);
      }
      verdict(consistency, "ok", "Consistent:", ` the log of ${number(checkpoint.size)} leaves extends the one of ${number(seen.size)} this tab verified at ${time(seen.at)}; nothing before was changed.`);
    }
    sessionStorage.setItem(SEEN_KEY, JSON.stringify({ size: checkpoint.size, note: checkpoint.note, key: signer.fingerprint, at: new Date().toISOString() }));
  } catch (error) {
    if (signal.aborted) return;
    verdict(consistency, "failure", "Consistency not proved:", ` ${error instanceof VerifyError ? `${error.code}: ${error.message}` : describeFailure(error)}`);
  }
}
