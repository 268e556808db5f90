/**
 * The fitting process: runs one fit (fit-job.ts) and exits. Fitting loads the base model and a derived copy in
 * llama.cpp, which aborts its whole process on some failures, and holds a few hundred MB while it runs; in a
 * process of its own neither can touch the gateway, and everything is returned to the system when it exits.
 */
// First, so the guard is in place before llama.cpp's bindings load: fitting needs no network either.
import "../../../inference/llama/child-egress.js";
import { UnsupportedModelError } from "./last-block.js";
import { TensorDataError } from "../../../models/gguf/tensor-data.js";
import { FitRefusal, runFitJob, type FitJob, type FitJobResult } from "./fit-job.js";

export type FitProcessReply =
  | { type: "fitted"; result: FitJobResult }
  | { type: "refused"; code: string; message: string };

process.once("message", (job: FitJob) => {
  runFitJob(job)
    .then((result) => reply({ type: "fitted", result }))
    .catch((error: unknown) => {
      if (error instanceof FitRefusal) return reply({ type: "refused", code: error.code, message: error.message });
      if (error instanceof UnsupportedModelError || error instanceof TensorDataError) return reply({ type: "refused", code: "fit_model_unsupported", message: error.message });
      return reply({ type: "refused", code: "fit_failed", message: (error as Error)?.message ?? String(error) });
    });
});

function reply(message: FitProcessReply): void {
  process.send?.(message, () => process.exit(0));
}

// The process lives only as long as the one that started it.
process.on("disconnect", () => process.exit(0));
