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
      calibrator.noteBest(0.8);
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

  it("takes a revised quality in place of the one it observed", () => {
    // Outcomes learned as valid, then judged wrong by feedback: the calibration ends where observing the judged
    // quality would have left it.
    const revised = new QualityTargetCalibrator();
    const judged = new QualityTargetCalibrator();
    // Exact here: the running mean of best predictions does not move between an observation and its revision.
    for (let i = 0; i < 50; i++) {
      revised.noteBest(0.8);
      judged.noteBest(0.8);
      revised.observe(0.95, 0.8, 1);
      revised.revise(0.95, 1, i % 2);
      judged.observe(0.95, 0.8, i % 2);
    }
    expect(judged.multiplier).toBeLessThan(0.5);
    expect(revised.multiplier).toBeCloseTo(judged.multiplier, 10);
  });

  it("averages the decisions' best predictions from the first decision, then over a window", () => {
    const calibrator = new QualityTargetCalibrator();
    calibrator.noteBest(0.98);
    expect(calibrator.slack(0.95)).toBeCloseTo(0.05 * 0.98, 12);
    calibrator.noteBest(0.5);
    expect(calibrator.slack(0.95)).toBeCloseTo(0.05 * 0.74, 12);
    for (let i = 0; i < 2000; i++) calibrator.noteBest(0.6);
    expect(calibrator.slack(0.95)).toBeCloseTo(0.05 * 0.6, 6);
    // State saved before the count was kept is read as a full window: one decision moves it by the window's share.
    const older = new QualityTargetCalibrator();
    older.importState({ multiplier: 1, meanBest: 0.9, observed: 10 });
    older.noteBest(0.1);
    expect(older.slack(0.95)).toBeCloseTo(0.05 * (0.9 - 0.01 * 0.8), 12);
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
