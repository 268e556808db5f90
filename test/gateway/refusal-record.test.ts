import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";

/**
 * What an unauthenticated caller can make the gateway write: refusals name the route pattern, never the path the
 * caller chose, keep its other text redacted and bounded, and a flood of them becomes one event with a count.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ models: writeTestModels([{ id: "tiny", capabilities: ["chat", "completion"] }]) });
});
afterAll(async () => gw?.close());

const refusals = async (endpoint: string) => {
  await gw.gateway.audit.sequencer.drain();
  return (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "request.refused" && event.request?.endpoint === endpoint);
};

describe("refused requests in the audit log", () => {
  it("keep the route pattern, never the caller's path, and no PII reaches the audit log or the gateway log", async () => {
    const paths = [
      "/v1/executions/jane.doe%40hospital.example",
      "/v1/executions/jane.doe%40hospital.example/4111111111111111",
      `/v1/executions/${encodeURIComponent("+44 20 7946 0958")}`,
      "/v1/executions/jane.doe@hospital.example/4111%201111%201111%201111",
    ];
    for (const path of paths) expect((await fetch(`${gw.url}${path}`)).status, path).toBe(401);
    // An invalid credential too: its reason is kept, redacted and bounded.
    expect((await fetch(`${gw.url}/v1/executions/x`, { headers: { authorization: `Bearer atk_${"j".repeat(16)}_${"A".repeat(43)}`, "x-request-id": "ticket-4711" } })).status).toBe(401);

    const byPattern = await refusals("GET /v1/executions/:id");
    expect(byPattern.map((event) => event.outcome?.code).sort()).toEqual(["authentication_required", "invalid_credentials"]);
    expect(byPattern.find((event) => event.outcome?.code === "invalid_credentials")).toMatchObject({ request: { id: "ticket-4711" }, detail: { reason: expect.any(String) } });
    expect(await refusals("GET (unmatched)")).toHaveLength(1);
    const events = JSON.stringify(await auditEvents(gw.databaseUrl));
    for (const text of ["jane", "hospital", "4111", "%40", "7946", "%20"]) expect(events).not.toContain(text);

    const logged = JSON.stringify(gw.logs);
    for (const text of ["jane.doe", "%40hospital", "4111", "7946"]) expect(logged).not.toContain(text);
    const lines = gw.logs.filter((line) => line["msg"] === "request refused");
    expect(lines.map((line) => line["route"])).toEqual(expect.arrayContaining(["/v1/executions/:id", "(unmatched)"]));
    expect(lines.map((line) => line["path"])).toContain("/v1/executions/[EMAIL_1]");
  });

  it("write an unauthenticated flood as its first refusal at once and the rest as one event with a count, on shutdown too", async () => {
    const flood = 60;
    for (let i = 0; i < flood; i++) expect((await fetch(`${gw.url}/v1/schemas`)).status).toBe(401);
    const first = await refusals("GET /v1/schemas");
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ actor: { sourceAddress: expect.stringContaining("127.0.0.1") }, outcome: { code: "authentication_required" } });

    // A clean shutdown writes what the window counted: nothing is lost.
    await gw.gateway.close();
    const all = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "request.refused" && event.request?.endpoint === "GET /v1/schemas");
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ actor: { sourceAddress: expect.stringContaining("127.0.0.1") }, outcome: { code: "authentication_required" }, detail: { count: flood - 1 } });
  });
});
