import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigSchema } from "../config/schema.js";
import { TemporalBinaryMissingError } from "../orchestration/temporal-binary.js";
import { startOrchestration, temporalAddress, type OrchestrationParts } from "./orchestration.js";

const logger = pino({ level: "silent" });
// Never reached: both cases end before anything would use them.
const parts = {} as OrchestrationParts;

afterEach(() => {
  delete process.env["ATOMIC_TEMPORAL_BINARY"];
});

describe("startOrchestration", () => {
  it("says how to get Temporal when it would start the dev server and the binary is missing", async () => {
    process.env["ATOMIC_TEMPORAL_BINARY"] = "/nonexistent/temporal";
    const config = ConfigSchema.parse({ dataDir: "/nonexistent/data" });
    const failure = startOrchestration(config, logger, parts);
    await expect(failure).rejects.toBeInstanceOf(TemporalBinaryMissingError);
    await expect(failure).rejects.toThrow(/\/nonexistent\/temporal does not exist.*temporal\.address.*temporal\.enabled/);
  });

  it("refuses asynchronous tasks, and connects to nothing, when orchestration is off", async () => {
    const config = ConfigSchema.parse({ temporal: { enabled: false } });
    const running = await startOrchestration(config, logger, parts);
    expect(running.tasks.available).toBe(false);
    expect(running.address).toBeNull();
    expect(temporalAddress(config)).toBeNull();
    await expect(running.tasks.get("default", "any")).resolves.toBeNull();
  });

  it("lets the egress guard through to the configured frontend, or the dev server's loopback port", () => {
    expect(temporalAddress(ConfigSchema.parse({ temporal: { address: "temporal.internal:7233" } }))).toBe("temporal.internal:7233");
    expect(temporalAddress(ConfigSchema.parse({ temporal: { devServerPort: 7300 } }))).toBe("127.0.0.1:7300");
    // A free port is not known before the dev server is started: it is let through then (test/gateway/dev-server-port.test.ts).
    expect(temporalAddress(ConfigSchema.parse({ temporal: { devServerPort: 0 } }))).toBeNull();
  });
});
