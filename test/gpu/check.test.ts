import { describe, expect, it } from "vitest";
import { runScript } from "../bench/smoke/smoke.js";

// One llama.cpp thread per model host, as everywhere in the suite: with both cores, which the other test worker keeps
// busy too, llama.cpp's threads wait on each other at every token (16 tokens of the small model: 3 s, against 0.1 s).
const check = (args: string[]) => runScript("test/gpu/check.ts", [...args, "--threads", "1"]);

// The GPU check (docs/gpu.md) runs on a GPU machine only when a session is lent one; here it runs on the CPU, so that
// the day a GPU is at hand it works, and a device that cannot load the model fails it.
describe("the GPU check (test/gpu/check.ts)", { timeout: 150_000 }, () => {
  it("passes every check on the CPU and prints the throughput table", async () => {
    const { code, output } = await check(["--gpu", "cpu", "--quick", "--tokens", "16"]);
    expect(code, output).toBe(0);
    expect(output.match(/^ok {3}/gm)?.length).toBe(7);
    expect(output).toMatch(/cpu +\(llama\.cpp gpu: false\) +generation [\d.]+ tokens\/s +prompt [\d.]+ tokens\/s/);
    expect(output).toContain("all checks passed");
  });

  it("fails, saying why, on a device this machine has no build for", async () => {
    const { code, output } = await check(["--gpu", "cuda", "--quick"]);
    expect(code).toBe(1);
    expect(output).toMatch(/FAIL loads on the device asked for: the model did not load: \S+/);
    expect(output).not.toContain("tokens/s");
  });
});
