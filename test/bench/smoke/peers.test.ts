import { describe, it } from "vitest";
import { SMOKE_TIMEOUT, smoke } from "./smoke.js";

describe("peer benchmark in smoke mode", { timeout: SMOKE_TIMEOUT }, () => {
  // Measures whichever peers are installed (npm run peers:install); without them, Atomic and the mock alone.
  it("bench:peers: Atomic side by side with LiteLLM and Portkey over a mock upstream", () =>
    smoke("test/bench/peers.ts", { BENCH_SMOKE: "1" }, [/mock upstream \(direct\)/, /Atomic .* ms/, /(not installed|Atomic ÷ the faster peer)/]));
});
