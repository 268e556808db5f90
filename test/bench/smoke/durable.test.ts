import { describe, it } from "vitest";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("Temporal, audit and policy benchmarks in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  it("bench:tasks: the Temporal path against the direct one", () =>
    smoke("test/bench/tasks.ts", { BENCH_TASKS_SEQUENTIAL: "2", BENCH_TASKS_CONCURRENT: "3", BENCH_TASKS_PRODUCTION: "0" }, [/added by Temporal/, /tasks\/s/, /Temporal.s own ceiling/, /workflows\/s; Atomic.s tasks ran at/]));

  it("bench:audit: appends, proofs, export and verify", () =>
    smoke("test/bench/audit.ts", { BENCH_AUDIT_APPENDS: "20", BENCH_AUDIT_LOG: "1000", BENCH_AUDIT_BACKLOG: "500" }, [/verify .*OK/]));

  it("bench:policy: decisions and redaction", () =>
    smoke("test/bench/policy.ts", { BENCH_POLICY_DECISIONS: "300", BENCH_POLICY_REDACT_KB: "1,16", BENCH_POLICY_REDACT_TOTAL_KB: "16" }, [/policy decisions/, /allowedModels/, /redaction/]));
});
