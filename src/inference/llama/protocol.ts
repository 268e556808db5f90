import type { HandedSpan } from "../../observability/tracing/handover.js";
import type { ChatMessage, FinishReason, GenerationParams, TokenLogprob } from "../interface.js";

/** Messages between the gateway (parent) and one model host process (child), over Node's IPC channel. */

export interface LoadSpec {
  modelId: string;
  path: string;
  /** Expected SHA-256 (hex) of the file; the child verifies it on the descriptor it then loads from. */
  sha256: string;
  contextSize: number;
  sequences: number;
  threads: number;
  gpu: "auto" | "cpu" | "cuda" | "vulkan";
  embedding: boolean;
  /** Serves chat or completion: false for an embedding-only model (BERT), which gets no generation context. */
  generation: boolean;
  /** Contexts with a LoRA adapter kept besides the base context (src/inference/llama/context-pool.ts). */
  maxAdapterContexts: number;
  /** An adapter context unused this long is freed. */
  adapterIdleMs: number;
  /**
   * Whether llama.cpp maps the file (models.mmap) rather than reading the weights into the host's memory. Mapped, a
   * write into the file changes the weights being served: the host is then stopped and loaded again.
   */
  mmap: boolean;
  /** How often the host looks at its loaded file for changes inotify does not report (./loaded-file-watch.ts). */
  fileCheckMs: number;
}

export type ParentMessage =
  | { type: "load"; spec: LoadSpec }
  | {
    type: "generate";
    id: number;
    input: { kind: "chat"; messages: ChatMessage[] } | { kind: "completion"; prompt: string };
    params: GenerationParams;
    stream: boolean;
    /** The W3C trace context of the gateway's span for this request; absent when the gateway does not trace. */
    traceparent?: string;
  }
  | { type: "embed"; id: number; inputs: string[] }
  | { type: "abort"; id: number };

export interface LoadedInfo {
  gpu: string | false;
  /** Layers llama.cpp placed on the GPU (0 on the CPU): an operator sees whether the model really runs there. */
  gpuLayers: number;
  trainContextSize: number;
  /** How long the digest check and the load took, for the startup log. */
  verifyMs: number;
  loadMs: number;
}

export type ChildMessage =
  | { type: "loaded"; info: LoadedInfo }
  | { type: "load-failed"; code: string; reason: string }
  | { type: "text"; id: number; chunk: string }
  | { type: "adapter-context"; kind: "created" | "freed"; key: string; ms?: number; reason?: "idle" | "room" }
  | {
    type: "generated"; id: number; text: string; finishReason: FinishReason; promptTokens: number; completionTokens: number; inferenceMs: number;
    logprobs?: TokenLogprob[];
  }
  | { type: "embedded"; id: number; vectors: number[][]; promptTokens: number; inferenceMs: number }
  /**
   * The loaded file, or what its path names, changed after the load (`detail`: what changed). Not mapped, the host
   * hashed what the path names now: `sha256` (null: no regular file there); mapped, it did not wait to hash.
   */
  | { type: "file-changed"; detail: string; sha256?: string | null }
  | { type: "failed"; id: number; code: string; message: string }
  /** Finished spans of traced requests, for the gateway to export (the host itself has no network). */
  | { type: "spans"; spans: HandedSpan[] };
