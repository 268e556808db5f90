import type { Classification } from "../../policy/classification.js";

/**
 * The seam between inference-time adaptation (src/adaptation: analyzer, parameter adjuster, prompt engineer,
 * feedback integrator) and LoRA adapters (registered in the model manifest, verified, applied by the model host,
 * fitted from rated examples). The planner only asks "which adapter is current for this model and task class?";
 * everything about files, digests, loading and fitting lives behind this interface.
 *
 * Agreed between the two halves of issue 15:
 * - The planner calls `AdapterCatalog.current(modelId, taskClass, scope)` on the request path, synchronously, so it must
 *   answer from memory (no I/O; keep the manifest's adapters indexed in the gateway).
 * - When the plan chooses an adapter, the pipeline puts `GenerationParams.adapter` ({ id, path, sha256, scale })
 *   on the generation; the model host verifies the SHA-256 before loading and applies it for that request only.
 *   The execution's adaptation record and its audit event carry `AdapterRef.id`, `sha256` and `version`.
 * - Task classes are strings made by src/adaptation/task-class.ts: `task:<label>` for a declared task label
 *   (request field `atomic_task`), `schema:<name>@<version>` for a stored schema, otherwise
 *   `<endpoint>:<taskType>` from the bidding features (e.g. `chat:classification`). An adapter registered with
 *   `--task CLASS` uses the same string; `taskClass: null` means "any task class of this base model".
 * - Rated examples for fitting: `RatedExamples.find({ tenant, taskClass, classifications, minScore, limit })` in
 *   src/adaptation/exemplars/interface.ts lists a tenant's rated executions of a task class in their stored
 *   (redacted) form, never erased ones; `PostgresRatedExamples` implements it (ratings are written by the feedback
 *   integrator on POST /v1/feedback). Fitting may use the same source.
 * - Migrations: adaptation takes 0008 (adaptation_learner_state, adaptation_rated_examples); the adapter half uses
 *   0009 if it needs a table.
 * - Wiring: src/bootstrap/gateway.ts has `const adapters: AdapterCatalog = noAdapters;` — the adapter half replaces
 *   that one line with its catalog. GET /v1/admin/adaptation lists `current(model, class)` for every learned class.
 */

export interface AdapterRef {
  /** Stable id in the manifest, e.g. "smollm2-135m-instruct.topic.v3". */
  id: string;
  /** SHA-256 (hex) of the GGUF adapter file, pinned in the manifest and verified before load. */
  sha256: string;
  /** The catalog id of the model this adapter was made for. */
  baseModel: string;
  /** The task class it was fitted for; null applies to every task class of the base model. */
  taskClass: string | null;
  /** The tenant whose rated executions it was fitted on; null: pinned by an operator for every tenant. */
  tenant: string | null;
  /** Increases with every promoted fit of the same (baseModel, taskClass). */
  version: number;
  /** Where the model host reads it from. */
  path: string;
  /** LoRA scale the host applies (1 unless the manifest says otherwise). */
  scale: number;
  /** A fitted adapter's labels (what its class's answers are); absent for an adapter pinned by an operator. */
  labels?: readonly string[];
  /**
   * A fitted adapter whose labels are a field of a structured answer (fit/answer-prefix.ts): it serves requests
   * whose answer schema has that label field, with its labels among the field's values, and no others.
   */
  labelField?: string;
}

/** Who asks: an adapter fitted on a tenant's data serves that tenant only, and only at or above its data's level. */
export interface AdapterScope {
  tenant: string;
  classification: Classification;
}

export interface AdapterCatalog {
  /**
   * The promoted adapter for this model and task class, or null where there is none; the tenant's own adapter
   * before one pinned for every tenant, one for the class before one for every class. Must not block.
   */
  current(modelId: string, taskClass: string, scope: AdapterScope): AdapterRef | null;
}

/** The catalog before any adapter exists: adaptation plans then never choose one. */
export const noAdapters: AdapterCatalog = {
  current: () => null,
};
