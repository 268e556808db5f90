import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContentHasher } from "../../src/audit/content-hasher.js";
import { signCheckpoint } from "../../src/audit/core/checkpoint.js";
import { keyIdentity } from "../../src/audit/core/key-identity.js";
import { publicJwk } from "../../src/audit/core/keys.js";
import { executionEvent } from "../../src/audit/events.js";
import type { ExecutionRecord } from "../../src/store/interface.js";
import { createPool } from "../../src/store/postgres/database.js";
import { PostgresExecutionStore } from "../../src/store/postgres/executions.js";
import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * The operators' dashboard (/ui) in Debian's headless Chromium, against a real gateway: what each view shows is
 * read off the page and held against what the API says. Screenshots of each view go to test/ui/artifacts/.
 */
const ARTIFACTS = join(import.meta.dirname, "artifacts");
const SYNTHETIC_MODEL = "synthetic-m";
const SYNTHETIC_FAILED = 30;

let gw: TestGateway;
let browser: TestBrowser;
let page: Page;
let pool: Pool;
let autoExecution: string;
/** Uncaught errors in the page, and what its policy refused (an inline script, an HTML string): none is expected. */
const pageProblems: string[] = [];

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const chat = (model: string, content: string, headers: Record<string, string> = {}) =>
  gw.post("/v1/chat/completions", { model, messages: [{ role: "user", content }], max_tokens: 4, seed: 1 }, headers);
const api = async (path: string) => {
  const response = await gw.fetch(path);
  expect(response.status, path).toBe(200);
  return response.json();
};
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Executions of another tenant and a model no host serves, written as the pipeline writes them: the list's filters and pages. */
async function storeSynthetic(): Promise<void> {
  pool = createPool(gw.databaseUrl, { max: 2 });
  const store = new PostgresExecutionStore(pool);
  const hasher = new ContentHasher(Buffer.alloc(32, 3));
  const record = (i: number, status: "succeeded" | "failed"): ExecutionRecord => ({
    id: randomUUID(), requestId: `synthetic-${i}`, actor: { subject: "apikey:synthetic", tenant: "ward-9", tokenIdHash: "ab".repeat(16) },
    endpoint: "chat.completions", modelId: SYNTHETIC_MODEL, modelDigest: "cd".repeat(32), status, errorCode: status === "failed" ? "model_overloaded" : null,
    parameters: {}, input: [{ role: "user", content: "hello" }], output: status === "failed" ? null : "hi", schema: null,
    promptTokens: 3, completionTokens: 1, timings: { queueMs: 1, inferenceMs: 2, totalMs: 3 },
    // Two at each instant, so that pages also part executions created at the same time.
    createdAt: new Date(Date.UTC(2025, 5, 1, 12, 0, Math.floor(i / 2))), completedAt: new Date(Date.UTC(2025, 5, 1, 12, 0, Math.floor(i / 2), 3)),
  });
  const records = [...Array.from({ length: SYNTHETIC_FAILED }, (_, i) => record(i, "failed")), ...Array.from({ length: 10 }, (_, i) => record(100 + i, "succeeded"))];
  await Promise.all(records.map((r) => store.insert(r, executionEvent(r, hasher))));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [gw, browser] = await Promise.all([startTestGateway({ models: writeTestModels([{ id: "tiny" }, { id: "tiny-b" }]) }), launchBrowser()]);
  page = await browser.context.newPage();
  page.on("pageerror", (error) => pageProblems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy|Trusted(HTML|Script|Type)/i.test(message.text())) pageProblems.push(message.text());
  });
  const auto = await chat("auto", "Say hello.");
  expect(auto.status).toBe(200);
  autoExecution = auto.headers.get("x-atomic-execution-id")!;
  expect((await chat("tiny", "Hi")).status).toBe(200);
  // The generated models are cleared for internal data (policies/entities.json): secret data is refused.
  expect((await chat("tiny", "the launch codes", { "x-atomic-data-classification": "secret" })).status).toBe(403);
  await storeSynthetic();
});
afterAll(async () => {
  await browser?.close();
  await pool?.end();
  await gw?.close();
});

async function signIn(key: string): Promise<string> {
  await page.goto(`${gw.url}/ui`);
  await page.fill("#key", key);
  await page.click("#sign-in-form button[type=submit]");
  const message = page.locator("#sign-in-message");
  // An answer shown, or the views open. Polled from here: a predicate run in the page is evaluated from a string,
  // which the page's own policy forbids (no 'unsafe-eval'), and the violation would count against it.
  await expect.poll(async () => {
    const text = await message.textContent();
    return (text !== "" && text !== "Checking…") || !(await page.locator("#view").isHidden());
  }, { timeout: 15_000 }).toBe(true);
  return message.innerText();
}

describe("the page", () => {
  it("is served without credentials under a strict policy: its own modules and style only, nothing inline", async () => {
    const response = await fetch(`${gw.url}/ui`);
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy")!;
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain("unsafe");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // Every module is fetched at once, not level by level as imports are found: none may be left off that list.
    for (const module of readdirSync(join(import.meta.dirname, "..", "..", "src", "ui", "assets")).filter((file) => file.endsWith(".js") && file !== "app.js")) {
      expect(html).toContain(`<link rel="modulepreload" href="/ui/${module}">`);
    }
    const missing = await fetch(`${gw.url}/ui/nothing.js`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("ui_file_not_found");
  });
});

describe("signing in", () => {
  it("tells a key the gateway refuses from a valid key without the operator scope (a tenant's admin)", async () => {
    expect(await signIn("atomic-not-a-key")).toMatch(/did not accept this key or token \(invalid_credentials\)/);
    expect(await signIn(await gw.issueKey("default", ["admin"]))).toMatch(/does not hold the operator scope/);
    expect(await page.locator("#view").isHidden()).toBe(true);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    await shot("sign-in-refused");
  });

  it("signs an admin key in, keeping it in this tab's session storage only", async () => {
    expect(await signIn(gw.adminKey)).toBe("");
    await page.locator("[data-figure=requests-per-second]").waitFor();
    expect(await page.evaluate("Object.values(sessionStorage)")).toEqual([gw.adminKey]);
    expect(await page.evaluate("document.cookie")).toBe("");
  });
});

describe("the views", () => {
  const figure = async (name: string) => page.locator(`[data-figure=${name}] .value`).innerText();

  it("overview: the traffic so far, per model, refreshed while it is open", async () => {
    await page.goto(`${gw.url}/ui#/overview`);
    const requests = async () => Number((await page.locator("[data-figure=requests-per-second] .note").innerText()).split(" ")[0]!.replace(/,/g, ""));
    await page.locator("[data-figure=requests-per-second]").waitFor();
    const before = await requests();
    expect(before).toBeGreaterThanOrEqual(3);
    expect(await figure("error-share")).toMatch(/%$/);
    expect(await figure("latency-p50")).toMatch(/\d (ms|s)$/);
    const tiny = page.locator("tr", { has: page.locator("a", { hasText: /^tiny$/ }) });
    expect(Number(await tiny.locator("td").nth(7).innerText())).toBeGreaterThanOrEqual(1);
    const overview = await api("/v1/admin/overview");
    expect(overview.models.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(["tiny", "tiny-b"]));
    await shot("overview");

    for (let i = 0; i < 3; i++) expect((await chat("tiny", `again ${i}`)).status).toBe(200);
    await expect.poll(requests, { timeout: 10_000, interval: 250 }).toBeGreaterThanOrEqual(before + 3);
  });

  it("executions: filtered by model and status, in pages that follow one another", async () => {
    await page.goto(`${gw.url}/ui#/executions`);
    await page.locator("[data-count]").waitFor();
    await page.fill("input[name=model]", SYNTHETIC_MODEL);
    await page.selectOption("select[name=status]", "failed");
    await page.selectOption("select[name=limit]", "25");
    await page.click("form.filters button[type=submit]");
    await expect.poll(() => page.url(), { timeout: 15_000 }).toContain("status=failed");
    const rows = page.locator("main tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    const shown = async () => page.locator("main tbody tr td:last-child code").allInnerTexts();
    const first = await shown();
    const expected = await api(`/v1/admin/executions?model=${SYNTHETIC_MODEL}&status=failed&limit=25`);
    expect(first).toEqual(expected.data.map((e: { id: string }) => e.id));
    for (const text of await rows.allInnerTexts()) expect(text).toMatch(new RegExp(`ward-9\\s+${SYNTHETIC_MODEL}.*failed \\(model_overloaded\\)`));
    await shot("executions");

    await page.click("text=Older →");
    await expect.poll(() => rows.count()).toBe(SYNTHETIC_FAILED - 25);
    const second = await shown();
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    const next = await api(`/v1/admin/executions?model=${SYNTHETIC_MODEL}&status=failed&limit=25&cursor=${expected.next_cursor}`);
    expect(second).toEqual(next.data.map((e: { id: string }) => e.id));
    expect(next.next_cursor).toBeNull();
    expect(await page.locator("text=Older →").isDisabled()).toBe(true);
    await page.click("text=← Newer");
    await expect.poll(shown).toEqual(first);
  });

  it("an execution: its decision record, every bid, and its receipt verified in the browser", async () => {
    await page.goto(`${gw.url}/ui#/executions/${autoExecution}`);
    const verdict = page.locator("#receipt [data-verdict]:not(.muted)");
    await verdict.waitFor({ timeout: 15_000 });
    expect(await verdict.getAttribute("data-verdict"), await verdict.innerText()).toBe("ok");
    expect(await verdict.innerText()).toMatch(new RegExp(`^Verified in this browser\\.\\s*Event ${autoExecution} \\(request\\) is leaf \\d+ of the log's tree of \\d+ leaves`));
    const record = await api(`/v1/admin/executions/${autoExecution}`);
    const bids = record.decision.microtasks[0].bids as Array<{ model: string }>;
    expect(bids.map((bid) => bid.model).sort()).toEqual(["tiny", "tiny-b"]);
    for (const bid of bids) await page.locator(`table.bids tr[data-model="${bid.model}"]`).waitFor();
    expect(await page.locator("table.bids tr.chosen").getAttribute("data-model")).toBe(record.decision.microtasks[0].choice.model);
    expect(await page.locator(".choice").innerText()).toContain(`Won by ${record.decision.microtasks[0].choice.model}`);
    expect(await page.locator("section", { hasText: "Policy decision" }).innerText()).toContain(record.parameters.policy.hash);
    await shot("execution");
  });

  it("a tampered checkpoint or proof is refused, naming what failed", async () => {
    await page.route("**/v1/audit/checkpoint", async (route) => {
      const response = await route.fetch();
      const [origin, size, root, ...rest] = (await response.text()).split("\n");
      // Another valid root: still a checkpoint, no longer the one the key signed.
      const other = `${root!.startsWith("A") ? "B" : "A"}${root!.slice(1)}`;
      await route.fulfill({ response, body: [origin, size, other, ...rest].join("\n") });
    });
    // The same address as the test before: only a reload asks the gateway again.
    await page.reload();
    const verdict = page.locator("#receipt [data-verdict=failure]");
    await verdict.waitFor({ timeout: 15_000 });
    expect(await verdict.innerText()).toMatch(/^Not verified\.\s*checkpoint_signature: the signature by key "[^"]+" does not verify/);
    await shot("tampered-checkpoint");
    await page.unroute("**/v1/audit/checkpoint");

    await page.route("**/v1/audit/receipt/**", async (route) => {
      const response = await route.fetch();
      const receipt = await response.json();
      receipt.inclusion_proof = receipt.inclusion_proof.reverse();
      if (receipt.inclusion_proof.length < 2) receipt.inclusion_proof.push(receipt.root);
      await route.fulfill({ response, json: receipt });
    });
    await page.reload();
    await verdict.waitFor({ timeout: 15_000 });
    expect(await verdict.innerText()).toMatch(/^Not verified\.\s*inclusion_failed: inclusion_proof does not lead from the leaf at index \d+ to the signed root/);
    await page.unroute("**/v1/audit/receipt/**");
  });

  it("models: each served model's digest and state, as GET /v1/models says", async () => {
    await page.goto(`${gw.url}/ui#/models`);
    const models = (await api("/v1/models")).data.filter((m: { id: string }) => m.id !== "auto");
    for (const model of models) {
      const row = page.locator("tr", { has: page.locator(`[data-model="${model.id}"]`) });
      await row.waitFor();
      expect(await row.innerText()).toContain(model.atomic.sha256);
      expect(await row.innerText()).toContain(model.atomic.state);
    }
    await shot("models");
  });

  it("bidding: the learner's state per model, its beliefs per task class beside what was observed, and over time", async () => {
    // Requests bidding routes, of a declared task class, judged: 0.2 and 0.6 by turns.
    const scores = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const response = await gw.post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: `Is bed ${i} free?` }], max_tokens: 4, seed: 1, atomic_task: "beds" });
      expect(response.status).toBe(200);
      const id = response.headers.get("x-atomic-execution-id")!;
      const score = i % 2 === 0 ? 0.2 : 0.6;
      expect((await gw.post("/v1/feedback", { execution_id: id, score })).status).toBe(200);
      scores.set(id, score);
    }
    await page.goto(`${gw.url}/ui#/bidding`);
    const state = await api("/v1/admin/bidding");
    await page.locator("section", { hasText: "What it believes of each model" }).locator("tbody tr").first().waitFor();
    const text = await page.locator("main").innerText();
    for (const [model, belief] of Object.entries(state.models as Record<string, { observations: number }>)) expect(text).toMatch(new RegExp(`${model}\\s+${belief.observations}\\b`));

    // What the page shows is what the route says of the last 24 hours; the feedback means are those given.
    const history = await api("/v1/admin/bidding/history");
    const beds = history.classes.filter((row: { task_class: string }) => row.task_class === "task:beds");
    expect(beds.reduce((sum: number, row: { chosen: number }) => sum + row.chosen, 0)).toBe(6);
    const format = (value: number) => value.toLocaleString("en", { maximumFractionDigits: 3 });
    for (const row of beds) {
      const cells = page.locator(`[data-section=beliefs] tr[data-task-class="task:beds"][data-model="${row.model}"] td`);
      await cells.first().waitFor();
      const shown = await cells.allInnerTexts();
      expect(shown.slice(0, 5)).toEqual(["task:beds", row.model, String(row.bids), format(row.predicted_quality), String(row.chosen)]);
      expect(shown[7]).toBe(row.feedback.count === 0 ? "—" : `${format(row.feedback.mean)} (${row.feedback.count})`);
    }
    const judged = [...scores.values()];
    const chosenFeedback = beds.reduce((sum: number, row: { feedback: { mean: number | null; count: number } }) => sum + (row.feedback.mean ?? 0) * row.feedback.count, 0);
    expect(chosenFeedback).toBeCloseTo(judged.reduce((a, b) => a + b, 0), 10);

    const over = page.locator("[data-section=history]");
    expect(await over.locator("[data-figure=history-decisions] .value").innerText()).toBe(String(history.totals.decisions));
    expect(await over.locator("[data-figure=history-feedback] .value").innerText()).toBe(format(history.totals.feedback.mean));
    expect(await over.locator("[data-figure=history-feedback] .note").innerText()).toBe(`${history.totals.feedback.count} judged`);
    expect(await over.locator("[data-figure=history-regret] .value").innerText()).toBe(format(history.totals.predicted_quality.regret));
    // The chart: a line or dot per series with values, bars for the buckets with decisions.
    expect(await over.locator("svg [data-series=chosen]").count()).toBeGreaterThan(0);
    expect(await over.locator("svg [data-series=feedback]").count()).toBeGreaterThan(0);
    expect(await over.locator("svg rect.bar-decisions").count()).toBe(history.buckets.filter((b: { decisions: number }) => b.decisions > 0).length);
    const rows = await over.locator("tbody tr").allInnerTexts();
    expect(rows.reduce((sum, row) => sum + Number(row.split("\t")[1]), 0)).toBe(history.totals.decisions);
    await shot("bidding");

    // Another window and one tenant, kept in the hash: the admin's tenant made every decision here but the synthetic ones.
    await page.selectOption("[name=window]", "7d");
    await page.fill("[name=tenant]", "default");
    await page.click("form.filters button[type=submit]");
    await expect.poll(() => page.evaluate("location.hash")).toBe("#/bidding?window=7d&tenant=default");
    await expect.poll(async () => page.locator("[data-section=history] h2 .updated").innerText().catch(() => "")).toBe("last 7 days, tenant default");
    const week = await api("/v1/admin/bidding/history?tenant=default&since=" + new Date(Date.now() - 7 * 86_400_000).toISOString());
    expect(await page.locator("[data-figure=history-decisions] .value").innerText()).toBe(String(week.totals.decisions));
    await shot("bidding-week");
  });

  it("audit: the latest checkpoint verified here, the log consistent with what this tab saw, and the policy's refusals", async () => {
    const before = (await api("/v1/admin/audit")).checkpoint.size as number;
    await page.goto(`${gw.url}/ui#/audit`);
    const signature = page.locator("#checkpoint-verdict [data-verdict]");
    await signature.waitFor();
    expect(await signature.innerText()).toMatch(/^Signature verified in this browser: signed by /);
    const size = Number((await page.locator("[data-figure=checkpoint-size]").innerText()).replace(/,/g, ""));
    expect(size).toBeGreaterThanOrEqual(before);
    const refusals = page.locator("section", { hasText: "Policy refusals" });
    expect(await refusals.innerText()).toMatch(/default\s+apikey:\S+\s+POST \/v1\/chat\/completions\s+model tiny may not receive this request: data classified secret/);

    // A second look proves the log grew from the tree the first look verified, and changed nothing before it.
    expect((await chat("tiny", "one more")).status).toBe(200);
    await page.goto(`${gw.url}/ui#/overview`);
    await page.goto(`${gw.url}/ui#/audit`);
    const consistency = page.locator("#consistency-verdict [data-verdict=ok]");
    await consistency.waitFor();
    expect(await consistency.innerText()).toMatch(/^Consistent: the log of [\d,]+ leaves extends the one of [\d,]+ this tab verified/);
    await shot("audit");
  });

  it("audit after a key rotation: a retired key's checkpoint is refused, the tree this tab verified before still links to the new key's", async () => {
    // The gateway's key, listed as retired (without the leaf that retired it, as the keys route lists them), and a
    // key of the test's own as the current one: what the page is told after `atomic keys rotate`.
    const { keys } = await api("/v1/admin/audit/keys");
    const retired = keys[0];
    const name = retired.jwk.kid as string;
    const next = { name, ...generateKeyPairSync("ed25519") };
    const identity = keyIdentity(name, next.publicKey);
    await page.route("**/v1/admin/audit/keys", (route) =>
      route.fulfill({ json: { object: "audit.keys", keys: [{ jwk: publicJwk(next), key_id: identity.keyId, fingerprint: identity.fingerprint, current: true }, { ...retired, current: false }] } }));
    const signature = page.locator("#checkpoint-verdict [data-verdict]");
    await page.goto(`${gw.url}/ui#/overview`);
    await page.goto(`${gw.url}/ui#/audit`);
    await signature.waitFor();
    expect(await signature.getAttribute("data-verdict")).toBe("failure");
    expect(await signature.innerText()).toMatch(/^Signature not verified: key_unbounded: the checkpoint of [\d]+ leaves is signed by key \S+ \(key id [0-9a-f]{8}\), which the gateway lists as retired without the index of the key\.rotated leaf/);

    // The new key signs the latest tree (the same tree, re-signed here): taken, and linked to the tree this tab
    // verified under the key then current, which still vouches for exactly that checkpoint.
    const resign = (note: string) => {
      const [origin, size, root] = note.split("\n");
      return signCheckpoint({ origin: origin!, size: Number(size), root: Buffer.from(root!, "base64") }, next);
    };
    expect((await chat("tiny", "after the rotation")).status).toBe(200);
    await page.route("**/v1/admin/audit", async (route) => {
      const response = await route.fetch();
      const state = await response.json();
      state.checkpoint.note = resign(state.checkpoint.note);
      await route.fulfill({ response, json: state });
    });
    await page.route("**/v1/audit/consistency?**", async (route) => {
      const response = await route.fetch();
      const proof = await response.json();
      proof.new_checkpoint = resign(proof.new_checkpoint);
      await route.fulfill({ response, json: proof });
    });
    await page.goto(`${gw.url}/ui#/overview`);
    await page.goto(`${gw.url}/ui#/audit`);
    await page.locator("#consistency-verdict [data-verdict]:not([data-verdict=muted])").waitFor();
    expect(await signature.innerText()).toBe(`Signature verified in this browser: signed by ${name} (key id ${identity.keyId}).`);
    expect(await page.locator("#consistency-verdict [data-verdict]").innerText()).toMatch(/^Consistent: the log of [\d,]+ leaves extends the one of [\d,]+ this tab verified/);
    await page.unroute("**/v1/admin/audit/keys");
    await page.unroute("**/v1/admin/audit");
    await page.unroute("**/v1/audit/consistency?**");
  });

  it("asked nothing of anyone but the gateway, raised no error and broke none of its policy's rules", () => {
    expect(browser.offLoopback).toEqual([]);
    expect(pageProblems).toEqual([]);
  });
});

describe("the routes behind it", () => {
  it("list every tenant's executions to an admin only, validate the query, and find any tenant's record", async () => {
    const infer = await gw.issueKey("default", ["infer"]);
    const refused = await gw.fetch("/v1/admin/executions", { headers: as(infer) });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("insufficient_scope");
    for (const [query, code] of [["limit=201", "invalid_parameter"], ["limit=0", "invalid_parameter"], ["status=maybe", "invalid_parameter"], ["cursor=bm90LWEtY3Vyc29y", "invalid_parameter"], ["cursor=MjAyNS0xMy00NVQwMDowMDowMC4wMDAwMDBaIDAxOTBjMWEyLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA", "invalid_parameter"], ["from=yesterday", "invalid_parameter"], ["page=2", "unknown_parameter"]]) {
      const response = await gw.fetch(`/v1/admin/executions?${query}`);
      expect(response.status, query).toBe(400);
      expect((await response.json()).error.code, query).toBe(code);
    }
    const ward = await api("/v1/admin/executions?tenant=ward-9&limit=200&from=2025-06-01T12:00:05Z&to=2025-06-01T12:00:10Z");
    expect(ward.data).toHaveLength(10);
    expect(ward.data.every((e: { created_at: string }) => e.created_at >= "2025-06-01T12:00:05" && e.created_at < "2025-06-01T12:00:10")).toBe(true);
    const one = await api(`/v1/admin/executions/${ward.data[0].id}`);
    expect(one).toMatchObject({ id: ward.data[0].id, actor: { tenant: "ward-9" }, decision: null });
    expect((await gw.fetch(`/v1/executions/${ward.data[0].id}`)).status).toBe(404);
    expect((await gw.fetch(`/v1/admin/executions/${randomUUID()}`)).status).toBe(404);
  });
});
