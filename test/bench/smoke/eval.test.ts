import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("evaluation harness in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  it("eval: the harness end to end on the generated model, and model \"auto\" learning from its verdicts", () =>
    smoke("test/eval/run.ts", {}, [/atomic eval/, /all /, /model "auto", learning online/, /auto: logistic-ts /, /\.jsonl \(replay: npm run bench:routing/], [
      "--models", "atomic-test-random", "--per-kind", "1", "--auto", "logistic-ts", "--out", mkdtempSync(join(tmpdir(), "atomic-eval-smoke-")),
    ]));
});
