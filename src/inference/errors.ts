/** Failures of the inference layer, each with the stable code the gateway answers with. */

export class InferenceError extends Error {
  override readonly name: string = "InferenceError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The model is unknown, refused (digest, format) or down; `code` says which. */
export class ModelUnavailableError extends InferenceError {
  override readonly name = "ModelUnavailableError";
}

/** Every sequence is busy and the wait queue is full: the caller should retry later. */
export class QueueFullError extends InferenceError {
  override readonly name = "QueueFullError";
  constructor(readonly modelId: string, readonly retryAfterSeconds: number) {
    super("model_overloaded", `model ${modelId} is at capacity; retry after ${retryAfterSeconds}s`);
  }
}

/** The caller went away (or a deadline passed) before the work finished. */
export class InferenceAbortedError extends InferenceError {
  override readonly name = "InferenceAbortedError";
  constructor() {
    super("request_aborted", "the request was aborted before inference finished");
  }
}
