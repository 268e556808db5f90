// Generated from the gateway's GET /openapi.json by sdk/typescript/codegen/openapi-types.ts: do not edit.
// test/sdk/typescript.test.ts fails when the document has changed; `npx vitest run test/sdk/typescript.test.ts -u`
// writes this file again.

/** digests and names, never content: the other members are those of audit/FORMAT.md for its kind */
export type AuditEvent = {
  v: 1;
  /** the event's own id (an execution's events share its id) */
  id: string;
  time: string;
  kind: "request" | "request.refused" | "model.loaded" | "model.refused" | "config.loaded" | "key.generated" | "key.rotated" | "apikey.created" | "apikey.revoked" | "startup.selftest" | "egress.denied" | "bidding.changed" | "policy.reloaded" | "models.reloaded" | "models.replaced" | "models.removed" | "models.unloaded" | "models.loaded" | "webhook.attempt" | "schema.registered" | "audit.read" | "content.read" | "content.erased" | "feedback.recorded" | "task.cancelled" | "adapter.fitted" | "adapter.promoted" | "adaptation.changed" | "tenant.settings.changed";
  actor?: {
    subject?: string;
    tenant?: string;
    tokenIdHash?: string;
    sourceAddress?: string;
  };
  [key: string]: unknown;
};

export type AuditReceipt = {
  object: "audit.receipt";
  event_id: string;
  /** the leaf's index in the log */
  index: number;
  /** the leaf's canonical JSON: its UTF-8 encoding is exactly what was hashed */
  leaf: string;
  /** SHA-256(0x00 ‖ leaf) */
  leaf_hash: string;
  /** SHA-256(leaf): what the next leaf's prev names */
  chain_hash: string;
  tree_size: number;
  root: string;
  /** the signed checkpoint of that tree (FORMAT.md §4) */
  checkpoint: string;
  /** RFC 9162 PATH(index, D[tree_size]), bottom-up */
  inclusion_proof: Array<string>;
};

export type Decision = {
  version: number;
  executionId: string;
  createdAt: string;
  policy: {
    name: string;
    frozen: boolean;
    epoch: number;
    [key: string]: unknown;
  };
  criteria: {
    weights: {
      quality: number;
      cost: number;
      latency: number;
      [key: string]: unknown;
    };
    constraints: {
      maxLatencyMs: number | null;
      maxCost: number | null;
      minConfidence: number | null;
      [key: string]: unknown;
    };
    sources: { [key: string]: "request" | "tenant" | "global" | "default" };
    [key: string]: unknown;
  };
  planner: string;
  microtasks: Array<{
    id: string;
    kind: string;
    executor: string;
    dependsOn: Array<string>;
    parallel: boolean;
    fills: Array<string> | null;
    features: { [key: string]: unknown } | null;
    bids: Array<{
      model: string;
      confidence: number;
      cost: number;
      latencyMs: number;
      score: number;
      eligible: boolean;
      excludedBy: Array<string>;
      [key: string]: unknown;
    }>;
    choice: {
      model: string;
      mode: string;
      greedyModel: string;
      reason: string;
      [key: string]: unknown;
    } | null;
    [key: string]: unknown;
  }>;
  [key: string]: unknown;
};

export type Error = {
  error: {
    type: "invalid_request_error" | "authentication_error" | "permission_error" | "rate_limit_error" | "not_found_error" | "overloaded_error" | "server_error";
    /** stable and machine-readable: what a client branches on */
    code: string;
    /** safe to show; never a stack trace */
    message: string;
    /** the parameter at fault, as OpenAI writes it (`messages[0].content`) */
    param: string | null;
    /** more on some errors: every validation issue, a schema's violations, a policy set's problems */
    details?: unknown;
  };
};

export type Execution = {
  id: string;
  object: "execution";
  request_id: string;
  actor: {
    subject: string;
    tenant: string;
  };
  endpoint: "chat.completions" | "completions" | "embeddings" | "responses" | "tasks";
  model: string;
  model_sha256: string;
  status: "succeeded" | "failed";
  error_code: string | null;
  /** the generation parameters as applied */
  parameters: { [key: string]: unknown };
  /** null once erased */
  input: unknown;
  /** null when the request failed or its content was erased */
  output: unknown;
  schema: {
    name: string;
    version: number;
  } | null;
  usage: Usage;
  timings_ms: {
    queue: number;
    inference: number;
    total: number;
  };
  created_at: string;
  completed_at: string;
  content_erased: {
    at: string;
    audit_event_id: string;
  } | null;
  /** the OpenTelemetry trace the request ran in; null where tracing was off */
  trace_id: string | null;
  decision: Decision | null;
};

export type Feedback = {
  object: "feedback";
  execution_id: string;
  /** outcomes of the execution the feedback now counts for (0 while it has not finished) */
  outcomes: number;
  /** of those, how many the learner took or revised now (none while frozen) */
  learned: number;
  adaptation: {
    task_class: string;
    learned: boolean;
    corrected: boolean;
  } | null;
};

export type FeedbackRequest = {
  execution_id: string;
  score: number;
  comment?: string;
  correction?: string | JsonValue;
};

export type JsonValue = string | number | boolean | null | Array<JsonValue> | { [key: string]: JsonValue };

export type RegisterSchemaRequest = {
  name: string;
  version?: number;
  description?: string;
  schema: { [key: string]: unknown };
};

export type SchemaList = {
  object: "list";
  /** each name's latest version */
  data: Array<SchemaRecord>;
};

export type SchemaRecord = {
  object: "schema";
  name: string;
  version: number;
  description: string | null;
  /** the JSON Schema document as registered */
  schema: { [key: string]: unknown };
  sha256: string;
  created_at: string;
};

export type Task = {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "running";
  progress: {
    taskId: string;
    status: "running" | "validating" | "recording" | "notifying" | "cancelling" | "succeeded" | "failed";
    microtasks: Array<{
      id: string;
      state: "pending" | "running" | "succeeded" | "failed" | "skipped";
      model?: string;
      fallbacks: number;
    }>;
  } | null;
  decision: Decision | null;
} | {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "succeeded" | "failed";
  result: unknown;
  error: {
    code: string;
    message: string;
    details?: unknown;
  } | null;
  microtasks: Array<{
    id: string;
    status: "succeeded" | "failed" | "skipped";
    model?: string;
    modelDigest?: string;
    taskQueue?: string;
    executionId?: string;
    text?: string;
    value?: unknown;
    promptTokens: number;
    completionTokens: number;
    fallbacks: Array<{
      model: string;
      taskQueue: string | null;
      outcome: "failed" | "timed_out" | "no_host";
      code: string;
      message: string;
    }>;
    error?: {
      code: string;
      message: string;
    };
  }>;
  learning: {
    recorded: number;
  } | {
    skipped: string;
  } | {
    pending: true;
  } | null;
  webhook: {
    delivered: boolean;
    attempts: number;
    status: number | null;
  } | {
    failed: string;
  } | {
    pending: true;
  } | null;
  content_erased: {
    at: string;
    audit_event_id: string;
  } | null;
  decision: Decision | null;
} | {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "failed" | "cancelled" | "terminated" | "timed_out";
  error: {
    code: string;
    message: string;
  };
  decision: Decision | null;
};

export type TaskAccepted = {
  id: string;
  object: "task";
  mode: "async";
  status: "queued";
  microtasks: Array<{
    id: string;
    model: string;
    fallback_models: Array<string>;
    depends_on: Array<string>;
  }>;
  /** whether the work was redacted before it was planned */
  redacted: boolean;
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
};

export type TaskCancelling = {
  id: string;
  object: "task";
  status: "cancelling";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
};

export type TaskEvent = {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "running";
  progress: {
    taskId: string;
    status: "running" | "validating" | "recording" | "notifying" | "cancelling" | "succeeded" | "failed";
    microtasks: Array<{
      id: string;
      state: "pending" | "running" | "succeeded" | "failed" | "skipped";
      model?: string;
      fallbacks: number;
    }>;
  } | null;
} | {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "succeeded" | "failed";
  result: unknown;
  error: {
    code: string;
    message: string;
    details?: unknown;
  } | null;
  microtasks: Array<{
    id: string;
    status: "succeeded" | "failed" | "skipped";
    model?: string;
    modelDigest?: string;
    taskQueue?: string;
    executionId?: string;
    text?: string;
    value?: unknown;
    promptTokens: number;
    completionTokens: number;
    fallbacks: Array<{
      model: string;
      taskQueue: string | null;
      outcome: "failed" | "timed_out" | "no_host";
      code: string;
      message: string;
    }>;
    error?: {
      code: string;
      message: string;
    };
  }>;
  learning: {
    recorded: number;
  } | {
    skipped: string;
  } | {
    pending: true;
  } | null;
  webhook: {
    delivered: boolean;
    attempts: number;
    status: number | null;
  } | {
    failed: string;
  } | {
    pending: true;
  } | null;
  content_erased: {
    at: string;
    audit_event_id: string;
  } | null;
} | {
  id: string;
  object: "task";
  mode: "async";
  links: {
    self: string;
    events: string;
    cancel: string;
    execution: string;
  };
  status: "failed" | "cancelled" | "terminated" | "timed_out";
  error: {
    code: string;
    message: string;
  };
};

export type TaskRequest = {
  input: string | { [key: string]: unknown };
  instructions?: string;
  schema?: {
    name: string;
    version?: number;
  } | {
    inline: { [key: string]: unknown };
  };
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  atomic_task?: string;
  atomic_adaptation?: "auto" | "off" | {
    strategies: Array<"exemplars" | "parameters" | "schema_instructions" | "adapter" | "labels">;
  };
  criteria?: {
    qualityTarget?: number | null;
    weights?: {
      quality?: number;
      cost?: number;
      latency?: number;
    };
    constraints?: {
      maxLatencyMs?: number | null;
      maxCost?: number | null;
      minConfidence?: number | null;
    };
  };
  mode?: "sync" | "async";
  webhook?: {
    url: string;
  };
};

export type TaskResult = {
  /** the execution's id */
  id: string;
  object: "task";
  status: "succeeded";
  model: string;
  /** the JSON value the schema describes, or text when there is no schema */
  result: unknown;
  /** the registry schema used; null for an inline schema or none */
  schema: {
    name: string;
    version: number;
  } | null;
  attempts: number;
  usage: Usage;
  /** where the execution record is read */
  execution: string;
};

export type Usage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
};
