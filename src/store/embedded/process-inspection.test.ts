import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { inspectProcess, startingEnvironmentVariable } from "./process-inspection.js";

describe("inspectProcess", () => {
  it("keeps the environment a live process started with, in the same snapshot as its state", async () => {
    const child = spawn("sleep", ["30"], { env: { ...process.env, ATOMIC_PROBE: "42" }, stdio: "ignore" });
    try {
      await once(child, "spawn");
      // Until exec has run, /proc shows the forked node, not sleep.
      let snapshot = inspectProcess(child.pid!);
      while (snapshot !== null && !snapshot.commandLine.includes("30")) snapshot = inspectProcess(child.pid!);
      expect(snapshot?.exited).toBe(false);
      expect(startingEnvironmentVariable(snapshot!, "ATOMIC_PROBE")).toBe("42");
      expect(startingEnvironmentVariable(snapshot!, "ATOMIC_ABSENT")).toBeNull();
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("reads a zombie as exited, with no environment left to read", async () => {
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const [line] = (await once(createInterface({ input: parent.stdout! }), "line")) as [string];
      const zombie = Number(line);
      // Exiting reads as exited from its first step (PF_EXITING); its memory, environment included, goes later.
      while (!readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z ")) await new Promise((resolve) => setTimeout(resolve, 5));
      const snapshot = inspectProcess(zombie);
      expect(snapshot?.exited).toBe(true);
      expect(snapshot?.startingEnvironment).toEqual([]);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
