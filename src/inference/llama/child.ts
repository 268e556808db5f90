/**
 * Model host process: loads one GGUF model and serves generation and embedding requests from the gateway over IPC.
 * It runs apart from the gateway because llama.cpp aborts the whole process on some malformed files and on
 * internal assertion failures; here such an abort costs one model host, which the gateway restarts.
 */
// First, so the guard is in place before anything below is evaluated.
import "./child-egress.js";
import { performance } from "node:perf_hooks";
import {
  getLlama,
  LlamaChat,
  type ChatWrapper,
  LlamaCompletion,
  LlamaLogLevel,
  type Llama,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { GenerationParams } from "../interface.js";
import { AdapterRefusal, VerifiedAdapters } from "./adapter-files.js";
import { chatWrapperFor, toHistory } from "./chat-prompt.js";
import { AdapterContextError, ContextPool, type AdapterSet, type SequenceLease } from "./context-pool.js";
import { watchLoadedFile } from "./loaded-file-watch.js";
import { currentDigest, LoadRefusal, openVerifiedModelFile, quietPath, refuseIfChangedSince } from "./model-file.js";
import type { ChildMessage, LoadSpec, ParentMessage } from "./protocol.js";
import { scoreTokens } from "./token-logprobs.js";
import type { Span } from "@opentelemetry/api";
import { ATTR } from "../../observability/tracing/interface.js";
import { failed } from "../../observability/tracing/spans.js";
import type { HostTracing } from "./child-tracing.js";

interface Host {
  llama: Llama;
  model: LlamaModel;
  /** The base context and the adapter contexts; absent for an embedding-only model. */
  contexts?: ContextPool;
  adapters: VerifiedAdapters;
  embedding?: Promise<LlamaEmbeddingContext>;
  /** The embedding context's window: no more than the model was trained on (BERT models: 512). */
  embeddingContextSize: number;
  /**
   * Resolved once per model: LlamaChat's "auto" resolves it on every construction, which inspects the model's chat
   * template and cost ~220 ms per chat request on the 2-vCPU machines measured (2.7 ms with it cached).
   */
  chatWrapper?: ChatWrapper;
  spec: LoadSpec;
}

const GRAMMAR_CACHE_LIMIT = 64;
let host: Host | undefined;
const grammars = new Map<string, Promise<LlamaGrammar>>();
const running = new Map<number, AbortController>();
let embeddingQueue: Promise<unknown> = Promise.resolve();

let tracing: Promise<HostTracing> | undefined;

/** Made on the first request that carries a trace context: a gateway that does not trace never has one loaded here. */
function hostTracing(): Promise<HostTracing> {
  return (tracing ??= import("./child-tracing.js").then(({ HostTracing }) => new HostTracing((spans) => send({ type: "spans", spans }))));
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function load(spec: LoadSpec): Promise<void> {
  const started = performance.now();
  const file = await openVerifiedModelFile(spec.path, spec.sha256);
  const verifyMs = performance.now() - started;

  const llama = await getLlama({
    build: "never",
    gpu: spec.gpu === "cpu" ? false : spec.gpu,
    maxThreads: spec.threads,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
    skipDownload: true,
  });
  const modelPath = process.platform === "linux" ? `/proc/self/fd/${file.fd}` : spec.path;
  // Not mapped (the default), llama.cpp reads the weights into this process's memory: a write into the file after
  // this cannot change what is served. Mapped, the weights are the file's pages: see reportFileChange.
  const model = await llama.loadModel({ modelPath, useMmap: spec.mmap });
  refuseIfChangedSince(file, spec.path);
  const contexts = spec.generation
    ? await ContextPool.create(model, {
      sequences: spec.sequences,
      contextSize: spec.contextSize,
      threads: spec.threads,
      maxAdapterContexts: spec.maxAdapterContexts,
      idleMs: spec.adapterIdleMs,
      onEvent: (event) => send({ type: "adapter-context", ...event }),
    })
    : undefined;
  host = {
    llama,
    model,
    ...(contexts ? { contexts } : {}),
    adapters: new VerifiedAdapters(file.header),
    spec,
    embeddingContextSize: Math.min(spec.contextSize, model.trainContextSize, 4096),
  };
  send({
    type: "loaded",
    info: { gpu: llama.gpu, gpuLayers: model.gpuLayers, trainContextSize: model.trainContextSize, verifyMs, loadMs: performance.now() - started - verifyMs },
  });
  // The host lives as long as its model: the watch ends with the process.
  watchLoadedFile({ fd: file.fd, path: spec.path, identity: file.identity, intervalMs: spec.fileCheckMs, onChange: (detail) => reportFileChange(spec, detail) });
}

/**
 * Tells the gateway that the loaded file changed (src/inference/llama/model-host.ts decides what follows). Mapped,
 * the weights may already be other bytes: it is told at once, without a hash. Read into memory, they are still the
 * verified ones, and the file is hashed so that the operator learns whether it still holds the pinned bytes (a
 * touch, a chmod) or not.
 */
async function reportFileChange(spec: LoadSpec, detail: string): Promise<void> {
  if (spec.mmap) return send({ type: "file-changed", detail });
  // Hashed once the writes have stopped: a hash takes this process's CPU from its requests.
  await quietPath(spec.path, spec.fileCheckMs);
  send({ type: "file-changed", detail, sha256: await currentDigest(spec.path) });
}

function grammarFor(llama: Llama, text: string): Promise<LlamaGrammar> {
  let grammar = grammars.get(text);
  if (!grammar) {
    if (grammars.size >= GRAMMAR_CACHE_LIMIT) grammars.delete(grammars.keys().next().value as string);
    grammar = llama.createGrammar({ grammar: text });
    grammars.set(text, grammar);
    grammar.catch(() => grammars.delete(text));
  }
  return grammar;
}

/** The context set a request's adapter needs (null: none), its file verified first. */
async function adapterSetFor(h: Host, adapter: GenerationParams["adapter"]): Promise<AdapterSet | null> {
  if (!adapter) return null;
  return { key: `${adapter.sha256}@${adapter.scale}`, path: await h.adapters.pathFor(adapter), scale: adapter.scale };
}

/**
 * A traced request gets a span from the wait for a sequence to the answer, child of the gateway's infer span. It
 * ends, and so goes to the gateway, before the answer does: the gateway has it when the request ends there.
 */
async function generate(message: Extract<ParentMessage, { type: "generate" }>, h: Host): Promise<void> {
  if (message.traceparent === undefined) return send(await generateOne(message, h, undefined));
  const span = (await hostTracing()).start("llama.generate", message.traceparent, { [ATTR.model]: h.spec.modelId });
  let answer: ChildMessage;
  try {
    answer = await generateOne(message, h, span);
  } catch (error) {
    failed(span, error);
    throw error;
  }
  span.end();
  send(answer);
}

async function generateOne(message: Extract<ParentMessage, { type: "generate" }>, h: Host, span: Span | undefined): Promise<ChildMessage> {
  if (!h.contexts) throw new Error(`${h.spec.modelId} serves embeddings only`);
  const controller = new AbortController();
  running.set(message.id, controller);
  let lease: SequenceLease | undefined;
  try {
    const { params } = message;
    lease = await h.contexts.lease(await adapterSetFor(h, params.adapter), controller.signal);
    const { sequence } = lease;
    const grammar = params.grammar ? await grammarFor(h.llama, params.grammar) : undefined;
    let completionTokens = 0;
    // The answer's tokens, kept only where they are to be scored.
    const generated: Token[] | undefined = params.logprobs === undefined ? undefined : [];
    const common = {
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      minP: params.minP,
      // Absent, no penalty applies (node-llama-cpp passes none; llama.cpp's sampler defaults to 1), as before this option existed.
      repeatPenalty: params.repeatPenalty,
      seed: params.seed,
      grammar,
      signal: controller.signal,
      customStopTriggers: params.stop,
      onToken: (tokens: readonly Token[]) => {
        completionTokens += tokens.length;
        generated?.push(...tokens);
      },
      onTextChunk: message.stream ? (chunk: string) => chunk && send({ type: "text", id: message.id, chunk }) : undefined,
    };
    const started = performance.now();
    let text: string;
    let stopReason: string;
    let promptTokens: number;
    if (message.input.kind === "chat") {
      h.chatWrapper ??= chatWrapperFor(h.model);
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: h.chatWrapper, autoDisposeSequence: false });
      try {
        const result = await chat.generateResponse(toHistory(message.input.messages), common);
        text = result.response;
        stopReason = result.metadata.stopReason;
      } finally {
        chat.dispose({ disposeSequence: false });
      }
      // What stays in the sequence is the prompt plus the generated tokens that were fed back.
      promptTokens = Math.max(0, sequence.contextTokens.length - Math.max(0, completionTokens - 1));
    } else {
      promptTokens = h.model.tokenize(message.input.prompt).length + 1;
      const completion = new LlamaCompletion({ contextSequence: sequence });
      try {
        const result = await completion.generateCompletionWithMeta(message.input.prompt, common);
        text = result.response;
        stopReason = result.metadata.stopReason;
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    }
    if (controller.signal.aborted) return { type: "failed", id: message.id, code: "request_aborted", message: "aborted" };
    const logprobs = generated === undefined ? undefined : await scoreTokens(h.model, sequence, generated, params.logprobs ?? 0);
    if (logprobs === null) return { type: "failed", id: message.id, code: "logprobs_unavailable", message: "the answer's tokens could not be found in the sequence to score them" };
    const finishReason = stopReason === "maxTokens" ? "length" : "stop";
    span?.setAttributes({ [ATTR.inputTokens]: promptTokens, [ATTR.outputTokens]: completionTokens, [ATTR.finishReason]: [finishReason] });
    return {
      type: "generated",
      id: message.id,
      text,
      finishReason,
      promptTokens,
      completionTokens,
      inferenceMs: performance.now() - started,
      ...(logprobs === undefined ? {} : { logprobs }),
    };
  } finally {
    running.delete(message.id);
    lease?.release();
  }
}

/**
 * Embeds the inputs one by one, stopping between inputs once the caller has gone (`signal`, aborted by the parent's
 * "abort"): requests run one at a time, so an abandoned one of hundreds of inputs kept the next caller waiting.
 */
async function embed(message: Extract<ParentMessage, { type: "embed" }>, h: Host, signal: AbortSignal): Promise<void> {
  h.embedding ??= h.model.createEmbeddingContext({ contextSize: h.embeddingContextSize, threads: h.spec.threads });
  const context = await h.embedding;
  const started = performance.now();
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const [index, input] of message.inputs.entries()) {
    signal.throwIfAborted();
    const tokens = h.model.tokenize(input).length;
    promptTokens += tokens;
    try {
      vectors.push(unitLength((await context.getEmbeddingFor(input)).vector));
    } catch (error) {
      // node-llama-cpp refuses an input longer than the embedding context (MiniLM: 512 tokens) with this message;
      // it is the caller's input, not a failure of the model, so it gets a code of its own.
      if (!/longer than the usable context size/.test((error as Error)?.message ?? "")) throw error;
      send({ type: "failed", id: message.id, code: "context_length_exceeded", message: `input ${index} is ${tokens} tokens; ${h.spec.modelId} embeds at most ${h.embeddingContextSize} tokens at once, its special tokens included` });
      return;
    }
  }
  send({ type: "embedded", id: message.id, vectors, promptTokens, inferenceMs: performance.now() - started });
}

/**
 * llama.cpp returns the pooled vector as it is; sentence-embedding models are trained to be compared by cosine
 * (all-MiniLM-L6-v2 ends in a Normalize layer), and OpenAI's embeddings, which clients are written against, have
 * unit length, so that a dot product is the cosine. A zero vector stays zero.
 */
function unitLength(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? [...vector] : vector.map((x) => x / norm);
}

function failWith(id: number, error: unknown): void {
  if (error instanceof AdapterRefusal || error instanceof AdapterContextError) return send({ type: "failed", id, code: error.code, message: error.message });
  const e = error as Error;
  const code = e?.name === "AbortError" ? "request_aborted" : "inference_failed";
  send({ type: "failed", id, code, message: e?.message ?? String(error) });
}

process.on("message", (message: ParentMessage) => {
  switch (message.type) {
    case "load":
      load(message.spec).catch((error: unknown) => {
        if (error instanceof LoadRefusal) send({ type: "load-failed", code: error.code, reason: error.message });
        else send({ type: "load-failed", code: "model_load_failed", reason: (error as Error)?.message ?? String(error) });
      });
      return;
    case "generate":
      if (!host) return failWith(message.id, new Error("model not loaded"));
      generate(message, host).catch((error: unknown) => failWith(message.id, error));
      return;
    case "embed": {
      const h = host;
      if (!h) return failWith(message.id, new Error("model not loaded"));
      // One embedding context serves requests one at a time; an abort while queued is kept for when its turn comes.
      const controller = new AbortController();
      running.set(message.id, controller);
      embeddingQueue = embeddingQueue.then(() => embed(message, h, controller.signal)
        .catch((error: unknown) => failWith(message.id, error))
        .finally(() => running.delete(message.id)));
      return;
    }
    case "abort":
      running.get(message.id)?.abort();
      return;
  }
});

// The host lives only as long as its gateway: a closed IPC channel means the parent is gone.
process.on("disconnect", () => process.exit(0));
// The gateway decides when its model hosts stop (over IPC, or by going away: disconnect above). A Ctrl-C in a
// terminal reaches the whole process group, and a host that died of it while the gateway drained was logged as a
// crash and restarted.
process.on("SIGINT", () => undefined);
