import { createServer } from "node:net";
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrchestrationUnavailableError } from "./interface.js";
import { TemporalTaskService } from "./temporal.js";

/**
 * Temporal gone: every call is answered within the deadline with OrchestrationUnavailableError (503
 * orchestration_unavailable to the caller), not after the client's own retries with a 500. A real client against
 * a loopback port nothing listens on: the fault is produced, not mocked.
 */
let connection: Connection;
let service: TemporalTaskService;

beforeAll(async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  service = new TemporalTaskService(new Client({ connection }), { callDeadlineMs: 1_500 });
});
afterAll(async () => connection?.close());

describe("TemporalTaskService with Temporal unreachable", () => {
  it("refuses get and cancel with OrchestrationUnavailableError", async () => {
    await expect(service.get("ward-7", crypto.randomUUID())).rejects.toBeInstanceOf(OrchestrationUnavailableError);
    await expect(service.cancel("ward-7", crypto.randomUUID())).rejects.toBeInstanceOf(OrchestrationUnavailableError);
  });
});
