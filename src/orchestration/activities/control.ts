import { ApplicationFailure, Context } from "@temporalio/activity";
import type { ContentHasher } from "../../audit/content-hasher.js";
import type { Logger } from "../../observability/logger.js";
import { recordExecution } from "../../pipeline/record.js";
import type { ExecutionStore } from "../../store/interface.js";
import { validateAgainstSchema } from "../../structured/index.js";
import { sinkMicrotasks, validateOutputs } from "../microtask.js";
import { NOT_HERE } from "../names.js";
import type { ControlActivities, HostAdvertisement, InferenceActivities, InferenceOutcome, LocalInferenceRequest, Microtask, MicrotaskResult, RecordTaskRequest, ValidationProblem } from "../types.js";

/** Reads the advertisements model hosts have made (see hostDirectoryWorkflow and TemporalHostDirectory). */
export interface HostDirectoryReader {
  /** fresh: bypass any copy the reader keeps. */
  list(options?: { fresh?: boolean }): Promise<HostAdvertisement[]>;
}

export interface ControlActivityDeps {
  executions: ExecutionStore;
  contentHasher: ContentHasher;
  directory: HostDirectoryReader;
  logger: Logger;
  /** Milliseconds since the epoch; tests may shift it to age advertisements. */
  now?: () => number;
  /** This process's model host, when it is one: its queue, and its inference activity to run here. */
  inferenceHere?: { taskQueue: string; runMicrotask: InferenceActivities["runMicrotask"] };
}

/** The hosts advertising each model, freshest first, leaving out advertisements older than their ttl. */
export function placeModels(models: readonly string[], hosts: readonly HostAdvertisement[], now: number): Record<string, string[]> {
  const live = hosts.filter((h) => now - h.advertisedAt <= h.ttlMs).sort((a, b) => b.advertisedAt - a.advertisedAt);
  return Object.fromEntries(models.map((model) => [model, [...new Set(live.filter((h) => h.models.some((m) => m.id === model)).map((h) => h.taskQueue))]]));
}

/** Problems with succeeded microtasks' outputs: missing text, or a value that does not satisfy the schema. */
export function validateMicrotaskResults(microtasks: readonly Microtask[], results: readonly MicrotaskResult[]): ValidationProblem[] {
  return validateOutputs(microtasks, results, validateAgainstSchema);
}

const joinDistinct = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => !!v))].join("+");

/** Activities on the control queue; the deps are injected, never global. */
export function createControlActivities(deps: ControlActivityDeps): ControlActivities {
  const now = deps.now ?? Date.now;
  const locate = async (models: string[]): Promise<Record<string, string[]>> => {
    const placement = placeModels(models, await deps.directory.list(), now());
    // A host that has just advertised may be missing from a cached copy: ask again before reporting no host.
    if (models.every((model) => placement[model]!.length > 0)) return placement;
    return placeModels(models, await deps.directory.list({ fresh: true }), now());
  };
  return {
    locateModels: locate,

    async locateModelsHere(models: string[]) {
      return { placement: await locate(models), here: deps.inferenceHere?.taskQueue ?? null };
    },

    async runMicrotaskHere(request: LocalInferenceRequest): Promise<InferenceOutcome> {
      const here = deps.inferenceHere;
      // A workflow task retried on another worker runs this again there: that worker sends it on to the host's queue.
      if (here?.taskQueue !== request.taskQueue) {
        throw ApplicationFailure.nonRetryable(`this worker is not the host of ${request.taskQueue}`, NOT_HERE);
      }
      const { taskQueue: _taskQueue, ...inference } = request;
      return here.runMicrotask(inference);
    },

    async validateResults({ microtasks, results }): Promise<ValidationProblem[]> {
      return validateMicrotaskResults(microtasks, results);
    },

    /**
     * The task's own execution (endpoint "tasks", id = task id): the assembled output, and in its parameters the
     * decision record of every microtask (model, host queue, execution, each fallback and why). Its model is the
     * model (or models, joined by "+") that produced the assembled result.
     */
    async recordTask({ input, result, startedAt }: RecordTaskRequest) {
      const existing = await deps.executions.get(input.actor.tenant, input.taskId);
      if (existing) return { executionId: existing.id, alreadyRecorded: true };
      const sinks = new Set(sinkMicrotasks(input.microtasks).map((m) => m.id));
      const producers = result.microtasks.filter((m) => sinks.has(m.id) && m.status === "succeeded");
      const chosen = producers.length > 0 ? producers : result.microtasks;
      const created = new Date(startedAt);
      const completed = new Date(now());
      try {
        await recordExecution(deps, {
          id: input.taskId,
          requestId: input.requestId,
          actor: input.actor,
          endpoint: "tasks",
          modelId: joinDistinct(chosen.map((m) => m.model)) || joinDistinct(input.microtasks.map((m) => m.model)),
          modelDigest: joinDistinct(chosen.map((m) => m.modelDigest)),
          status: result.status,
          errorCode: result.error?.code ?? null,
          parameters: {
            workflow: Context.current().info.workflowExecution ?? null,
            policy: input.policy ?? {},
            microtasks: result.microtasks.map((m) => ({
              id: m.id,
              status: m.status,
              model: m.model ?? null,
              taskQueue: m.taskQueue ?? null,
              executionId: m.executionId ?? null,
              fallbacks: m.fallbacks,
              ...(m.error ? { error: m.error } : {}),
            })),
          },
          input: { microtasks: input.microtasks },
          output: result.status === "succeeded" ? result.result : null,
          schema: null,
          promptTokens: result.microtasks.reduce((sum, m) => sum + m.promptTokens, 0),
          completionTokens: result.microtasks.reduce((sum, m) => sum + m.completionTokens, 0),
          timings: { queueMs: 0, inferenceMs: 0, totalMs: Math.max(0, completed.getTime() - created.getTime()) },
          createdAt: created,
          completedAt: completed,
        });
      } catch (error) {
        // A try that died after its commit, racing this one: the record is there, which is all that matters.
        if ((error as { code?: string }).code === "23505" && (await deps.executions.get(input.actor.tenant, input.taskId))) {
          return { executionId: input.taskId, alreadyRecorded: true };
        }
        throw error;
      }
      deps.logger.info({ task: input.taskId, status: result.status }, "task recorded");
      return { executionId: input.taskId, alreadyRecorded: false };
    },
  };
}
