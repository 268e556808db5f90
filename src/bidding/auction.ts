import { computeBids, type Bid } from "./bids.js";
import { applyCriteria, type ResolvedCriteria } from "./criteria.js";
import type { PerformanceEstimates } from "./estimates.js";
import type { TaskFeatures } from "./features.js";
import type { Candidate } from "./request.js";
import type { Selection, SelectionPolicy } from "./selection/interface.js";

export interface AuctionResult {
  bids: Bid[];
  selection: Selection;
}

/**
 * One microtask's auction: every candidate bids, the criteria exclude and score, the policy chooses (under a quality
 * target, within `qualitySlack` of the best prediction: the target as the router calibrated it). This is the
 * step the ≤ 50 µs CPU budget for 10 candidates applies to (`npm run bench:routing` measures it); it does no I/O
 * and allocates only the bids themselves. Throws NoEligibleModelError when the criteria leave no bid.
 */
export function runAuction(
  microtaskId: string,
  features: TaskFeatures,
  maxTokens: number | undefined,
  candidates: readonly Candidate[],
  criteria: ResolvedCriteria,
  policy: SelectionPolicy,
  estimates: PerformanceEstimates,
  qualitySlack: number | null = criteria.qualityTarget === null ? null : 1 - criteria.qualityTarget,
): AuctionResult {
  const bids = computeBids(candidates, features, maxTokens, policy, estimates);
  applyCriteria(bids, criteria, microtaskId);
  return { bids, selection: policy.choose(bids, { weights: criteria.weights, qualitySlack, features }) };
}
