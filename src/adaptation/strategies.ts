import { z } from "zod";

/**
 * What adaptation can change about a generation, each learned on or off per task class and model:
 *   - exemplars: the tenant's positively rated executions of the class, shown to the model as worked examples;
 *   - parameters: sampling parameters learned for the class (instead of the operator's defaults);
 *   - schema_instructions: the output schema written into the prompt (the grammar constrains the output either way);
 *   - adapter: the LoRA adapter promoted for the model and class (src/adaptation/adapters);
 *   - labels: a free-text answer held by a grammar to one of the class's labels, those its fitted adapter was fitted
 *     on (a class whose answers are labels, as its ratings showed: only such a class gets a fitted adapter), and the
 *     most probable of them chosen (temperature 0 unless the request sets one).
 */
export const STRATEGIES = ["exemplars", "parameters", "schema_instructions", "adapter", "labels"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * How a request asks to be adapted (request field `atomic_adaptation`): "auto" (the learned plan, exploring), "off"
 * (none: the operator's defaults and the prompt as sent), or the strategies to apply, wherever they can be.
 */
export type AdaptationRequest = "auto" | "off" | { strategies: readonly Strategy[] };

/** AdaptationRequest as a request body or a task's workflow input carries it. */
export const AdaptationRequestSchema = z.union([z.enum(["auto", "off"]), z.strictObject({ strategies: z.array(z.enum(STRATEGIES)).max(STRATEGIES.length) })]);
