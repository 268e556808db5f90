import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditSequencer } from "../../src/audit/store/sequencer.js";
import { compiledScript } from "../support/scripts.js";
import { countRows, enqueueConcurrently, openAuditDatabase, type AuditDatabase } from "./support/audit-database.js";
import { TEST_ORIGIN, testSigningKey } from "./support/events.js";
import { expectIntactLog } from "./support/log-invariants.js";

const key = testSigningKey();
let db: AuditDatabase;

beforeAll(async () => {
  db = await openAuditDatabase();
});

afterAll(async () => {
  await db.close();
});

function startSequencerProcess(): ChildProcess {
  return spawn(process.execPath, [compiledScript("test/audit/fixtures/sequencer-process.ts")], {
    env: {
      ...process.env,
      AUDIT_TEST_DATABASE_URL: db.database.url,
      AUDIT_TEST_KEY_PEM: key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      AUDIT_TEST_KEY_NAME: key.name,
      AUDIT_TEST_ORIGIN: TEST_ORIGIN,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("a sequencer killed with SIGKILL in the middle of its batches", () => {
  it("loses and duplicates nothing: its successor logs every acknowledged event exactly once", async () => {
    const acknowledged = await enqueueConcurrently(db.pool, 16, 250);

    const child = startSequencerProcess();
    const exited = once(child, "exit");
    let killed = false;
    await Promise.race([
      until(async () => (await countRows(db.pool, "audit_log")) > 0),
      exited.then(([code]) => {
        if (!killed) throw new Error(`the sequencer process exited on its own (code ${String(code)})`);
      }),
    ]);
    // Keep writing while it is killed: requests do not stop because the sequencer died.
    const duringKill = enqueueConcurrently(db.pool, 4, 100);
    killed = true;
    child.kill("SIGKILL");
    const [, signal] = await exited;
    expect(signal).toBe("SIGKILL");

    // Killed part-way through the backlog, not after it.
    const loggedAtKill = await countRows(db.pool, "audit_log");
    expect(loggedAtKill).toBeGreaterThan(0);
    expect(loggedAtKill).toBeLessThan(4000);
    acknowledged.push(...(await duringKill));

    const successor = new AuditSequencer({ pool: db.pool, key, origin: TEST_ORIGIN, intervalMs: 5, electionIntervalMs: 20 });
    await successor.start();
    try {
      await successor.drain();
    } finally {
      await successor.stop();
    }
    await expectIntactLog(db.pool, key, acknowledged);
  });
});
