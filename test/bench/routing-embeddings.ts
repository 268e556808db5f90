/**
 * The routing bench's dense featurizer (`--features embedding`): every prompt of a table embedded by the model
 * family's embedding model (all-MiniLM-L6-v2 once `npm run models:install` has run), through the engine and model
 * host the gateway uses, of the text the gateway embeds for bidding (routingEmbeddingText). A prompt the model
 * cannot embed (longer than its window) gets none and is routed on its shape alone, as in the gateway.
 *
 * Embedding a 14,000-question table takes about a minute on 2 vCPUs, so vectors are kept in the output folder under
 * a key of the model's digest and the prompts: a second run over the same table reads them back.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmbeddingFeaturizer } from "../../src/bidding/content/embedding.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import { loadCatalog } from "../../src/models/catalog.js";
import { createLogger } from "../../src/observability/logger.js";
import { routingEmbeddingText } from "../../src/pipeline/routing.js";

export interface TableEmbedder {
  featurizer: EmbeddingFeaturizer;
  /** One vector per prompt (null where the model could not embed it), in the prompts' order; whether they were cached. */
  embedAll(prompts: readonly string[]): Promise<{ vectors: Array<Float32Array | null>; cached: boolean }>;
  close(): Promise<void>;
}

const BATCH = 32;

export async function openTableEmbedder(familyManifest: string, cacheDir: string, threads: number): Promise<TableEmbedder> {
  if (!existsSync(familyManifest)) throw new Error(`--features embedding needs the model family (${familyManifest} is missing): run npm run models:install`);
  const model = loadCatalog({ manifestPath: familyManifest, dataDir: cacheDir, testModelWhenEmpty: false }).find((m) => m.capabilities.includes("embedding"));
  if (model === undefined) throw new Error(`--features embedding: ${familyManifest} pins no model with the embedding capability`);
  const logger = createLogger({ level: "warn" });
  const engine = new LlamaEngine({ models: [model], threads, gpu: "cpu", contextSize: model.contextLength, maxQueue: 4, queueTimeoutMs: 600_000, logger });
  await engine.start();
  const probe = await engine.embed(model.id, ["dimension probe"]);
  const dimension = probe.vectors[0]?.length ?? 0;
  if (dimension === 0) {
    await engine.close();
    throw new Error(`--features embedding: ${model.id} did not answer`);
  }

  const embedOne = async (text: string): Promise<Float32Array | null> => {
    try {
      return Float32Array.from((await engine.embed(model.id, [text])).vectors[0]!);
    } catch {
      return null;
    }
  };

  return {
    featurizer: new EmbeddingFeaturizer(model.id, dimension),
    async embedAll(prompts) {
      // Keyed by what is embedded, so a change in how the gateway prepares the text is never served stale vectors.
      const prepared = prompts.map(routingEmbeddingText);
      const key = createHash("sha256").update(`${model.sha256}\n${dimension}\n`).update(prepared.join("\u0000")).digest("hex").slice(0, 24);
      const cached = join(cacheDir, `embeddings-${model.id}-${key}.f32`);
      if (existsSync(cached)) return { vectors: fromFile(readFileSync(cached), prompts.length, dimension), cached: true };
      const vectors: Array<Float32Array | null> = [];
      for (let i = 0; i < prepared.length; i += BATCH) {
        const texts = prepared.slice(i, i + BATCH);
        try {
          vectors.push(...(await engine.embed(model.id, texts)).vectors.map((v) => Float32Array.from(v)));
        } catch {
          // One input over the model's window refuses the batch: each is then embedded alone.
          for (const text of texts) vectors.push(await embedOne(text));
        }
      }
      writeFileSync(cached, toFile(vectors, dimension));
      return { vectors, cached: false };
    },
    close: () => engine.close(),
  };
}

/** A vector of NaN stands for "none" in the cache file. */
function toFile(vectors: ReadonlyArray<Float32Array | null>, dimension: number): Buffer {
  const all = new Float32Array(vectors.length * dimension);
  vectors.forEach((v, i) => all.set(v ?? new Float32Array(dimension).fill(Number.NaN), i * dimension));
  return Buffer.from(all.buffer);
}

function fromFile(bytes: Buffer, count: number, dimension: number): Array<Float32Array | null> {
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (all.length !== count * dimension) throw new Error("embedding cache: wrong size (delete the file and run again)");
  return Array.from({ length: count }, (_, i) => {
    const v = all.subarray(i * dimension, (i + 1) * dimension);
    return Number.isNaN(v[0]) ? null : v;
  });
}
