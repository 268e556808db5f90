import { describe, expect, it } from "vitest";
import { seededRng } from "../util/rng.js";
import { QualityTargetCalibrator } from "./calibration.js";

describe("QualityTargetCalibrator", () => {
  it("moves the slack until the realised quality ratio tracks the target", () => {
    // A world where giving up slack s costs 2·s of quality on average: the best model succeeds 80 % of the time, and
    // the predictions are optimistic about the cheap one (what the slack gives up is twice what it says).
    const calibrator = new QualityTargetCalibrator();
    const rng = seededRng(4);
    const target = 0.9;
    let observed = 0;
    let best = 0;
    for (let i = 0; i < 20_000; i++) {
      const slack = calibrator.slack(target);
      const quality = 0.8 - 2 * slack;
      const y = rng() < quality ? 1 : 0;
      calibrator.observe(target, 0.8, y);
      if (i >= 10_000) {
        observed += y;
        best += 0.8;
      }
    }
    expect(observed / best).toBeCloseTo(target, 1);
    expect(Math.abs(observed / best - target)).toBeLessThan(0.02);
    // It had to halve the slack a perfect predictor would have taken.
    expect(calibrator.multiplier).toBeLessThan(0.7);
  });

  it("gives no slack at a target of 1, round-trips its state and forgets on reset", () => {
    const calibrator = new QualityTargetCalibrator();
    expect(calibrator.slack(1)).toBe(0);
    for (let i = 0; i < 100; i++) calibrator.observe(0.95, 0.9, 1);
    const again = new QualityTargetCalibrator();
    again.importState(JSON.parse(JSON.stringify(calibrator.exportState())));
    expect(again.exportState()).toEqual(calibrator.exportState());
    again.reset();
    expect(again.multiplier).toBe(1);
  });
});
