import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { internalPolicyDir } from "../support/policies.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { until } from "../support/until.js";

/**
 * A policy reload asked of one gateway, in force on every gateway of the database: two gateways of one site, each
 * with its own copy of the policy folder (as each machine has its files), on one database.
 */
let a: TestGateway;
let b: TestGateway;
let folderA: string;
let folderB: string;
const REFRESH_MS = 200;
const CLOSE = `\n@id("close-steady")\nforbid (principal, action, resource == Atomic::Model::"steady");\n`;

beforeAll(async () => {
  const models = writeTestModels([{ id: "steady", options: { seed: 6 } }]);
  folderA = internalPolicyDir();
  folderB = internalPolicyDir();
  a = await startTestGateway({ models, policy: { dir: folderA, reloadRefreshMs: REFRESH_MS } });
  b = await startTestGateway({ models, sameSiteAs: a, policy: { dir: folderB, reloadRefreshMs: REFRESH_MS } });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const complete = (gw: TestGateway) => gw.post("/v1/completions", { model: "steady", prompt: "go", max_tokens: 2, temperature: 0 });
const cedar = (folder: string) => join(folder, "default.cedar");
const reloadsBy = async (subject: string) => {
  await a.gateway.audit.sequencer.drain();
  return (await auditEvents(a.databaseUrl)).filter((event) => event.kind === "policy.reloaded" && event.actor?.subject === subject);
};

describe("a policy reload on a site of two gateways", () => {
  it("asked of one gateway, is followed by the other, which reads its own folder; both audited", async () => {
    expect((await complete(b)).status).toBe(200);
    const original = readFileSync(cedar(folderA), "utf8");
    writeFileSync(cedar(folderA), original + CLOSE);
    writeFileSync(cedar(folderB), original + CLOSE);
    // Written but not reloaded: nothing changes anywhere, the folders are read only when asked.
    await delay(REFRESH_MS * 3);
    expect((await complete(b)).status).toBe(200);

    const reloaded = await (await a.post("/v1/admin/policy/reload", {})).json();
    expect(reloaded).toMatchObject({ object: "policy.reload", changed: true, announced: expect.any(Number) });
    expect((await complete(a)).status).toBe(403);
    await until(async () => (await complete(b)).status === 403);
    expect((await (await complete(b)).json()).error.details.reasons).toContain("close-steady");

    const followed = await reloadsBy("atomic:policy-follow");
    expect(followed).toHaveLength(1);
    expect(followed[0]).toMatchObject({
      outcome: { status: "succeeded" },
      policy: { hash: reloaded.policy_set_hash, decision: "replaced" },
      detail: { reload: reloaded.announced, announcedHash: reloaded.policy_set_hash, matchesAnnounced: true },
    });
  });

  it("says when a follower's folder gives another set, and keeps the active set where its folder does not validate", async () => {
    const base = readFileSync(cedar(folderA), "utf8");
    // A opens the model again; B's folder was not updated the same way: B reloads what its own folder holds.
    writeFileSync(cedar(folderA), base.replace(CLOSE, "\n"));
    const first = await (await a.post("/v1/admin/policy/reload", {})).json();
    expect((await complete(a)).status).toBe(200);
    await until(async () => (await reloadsBy("atomic:policy-follow")).length === 2);
    const drifted = (await reloadsBy("atomic:policy-follow"))[1]!;
    expect(drifted).toMatchObject({ outcome: { status: "succeeded" }, detail: { reload: first.announced, matchesAnnounced: false } });
    expect((await complete(b)).status).toBe(403);

    // B's folder now does not validate: it keeps the set it has, and records the refusal.
    writeFileSync(cedar(folderB), `${readFileSync(cedar(folderB), "utf8")}\npermit (principal, action, resource) when { resource.noSuchAttribute };\n`);
    writeFileSync(cedar(folderA), `${readFileSync(cedar(folderA), "utf8")}\n// a comment: another set\n`);
    const second = await (await a.post("/v1/admin/policy/reload", {})).json();
    await until(async () => (await reloadsBy("atomic:policy-follow")).length === 3);
    const refused = (await reloadsBy("atomic:policy-follow"))[2]!;
    expect(refused).toMatchObject({ outcome: { status: "refused", code: "policy_set_invalid" }, detail: { reload: second.announced } });
    expect((await complete(b)).status).toBe(403);
  });
});
