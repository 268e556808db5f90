/**
 * What an execution keeps of its parameters once its content is erased: how it was run (limits, sampling, the
 * policy decision, the task's workflow and which model ran each microtask), never text the caller wrote or a model
 * produced. A list of what is kept rather than of what goes, so that a parameter added later is erased until
 * someone decides it may stay.
 */
const KEPT = ["maxTokens", "temperature", "topP", "topK", "minP", "repeatPenalty", "grammar", "seed", "attempts", "inputs", "policy", "workflow"] as const;

/**
 * Of the adaptation record (src/adaptation/record.ts): the task class, the plan, where each parameter came from, the
 * adapter's id and digest and the exemplars' execution ids. It never holds exemplar text (that stays in the
 * executions it came from, and goes when they are erased).
 */
const KEPT_ADAPTATION = ["taskClass", "mode", "eligible", "strategies", "preset", "sources", "adapter", "exemplars", "exemplarTokens", "budget", "reward"] as const;

/** Of a task's microtasks (parameters.microtasks): identities and outcomes; error messages may quote the output. */
const KEPT_MICROTASK = ["id", "status", "model", "taskQueue", "executionId"] as const;
const KEPT_FALLBACK = ["model", "taskQueue", "outcome", "code"] as const;

export function erasedParameters(parameters: Record<string, unknown>): Record<string, unknown> {
  const kept = pick(parameters, KEPT);
  if (Array.isArray(parameters["microtasks"])) kept["microtasks"] = parameters["microtasks"].map(microtaskIdentity);
  if (isObject(parameters["adaptation"])) kept["adaptation"] = pick(parameters["adaptation"], KEPT_ADAPTATION);
  return kept;
}

/**
 * A bidding decision record once its execution's content is erased: everything but what was read from the request's
 * text — the explanations, whose terms quote its n-grams (redacted, yet the caller's words), and the content
 * features, hashed n-grams or an embedding that a dictionary or an inversion model turns back into words. The shape
 * features (lengths, counts) stay, and so the record still says how the choice was made. Null when there is
 * nothing to take out.
 */
export function erasedDecisionRecord(record: unknown): Record<string, unknown> | null {
  if (!isObject(record) || !Array.isArray(record["microtasks"])) return null;
  let changed = false;
  const microtasks = record["microtasks"].map((microtask) => {
    if (!isObject(microtask)) return microtask;
    const erased = { ...microtask };
    if (isObject(microtask["choice"]) && Object.hasOwn(microtask["choice"], "explanation")) {
      const { explanation: _quoted, ...choice } = microtask["choice"];
      erased["choice"] = choice;
      changed = true;
    }
    if (isObject(microtask["features"]) && Object.hasOwn(microtask["features"], "content")) {
      const { content: _read, ...features } = microtask["features"];
      erased["features"] = features;
      changed = true;
    }
    return erased;
  });
  return changed ? { ...record, microtasks } : null;
}

/** A microtask as the audit log and an erased record keep it: which model ran it and how it ended, no messages. */
export function microtaskIdentity(microtask: unknown): Record<string, unknown> {
  if (!isObject(microtask)) return {};
  const kept = pick(microtask, KEPT_MICROTASK);
  if (Array.isArray(microtask["fallbacks"])) kept["fallbacks"] = microtask["fallbacks"].map((fallback) => (isObject(fallback) ? pick(fallback, KEPT_FALLBACK) : {}));
  if (isObject(microtask["error"])) kept["error"] = pick(microtask["error"], ["code"]);
  return kept;
}

function pick(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(from, key)) kept[key] = from[key];
  return kept;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
