import { invalidRequest, notFound } from "../gateway/errors.js";
import type { InferenceEngine, ModelStatus } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Capability } from "../models/manifest.js";

export interface ListedModel {
  model: CatalogModel;
  status: ModelStatus;
}

/** Which models exist, what each can do, and which one a request gets when it names none. */
export class ModelDirectory {
  private readonly catalog: CatalogModel[];
  private readonly byId: Map<string, CatalogModel>;

  constructor(catalog: readonly CatalogModel[], private readonly engine: InferenceEngine, private readonly defaultModel?: string) {
    // A copy: models added at run time join this directory, not the start-up catalog others were given.
    this.catalog = [...catalog];
    this.byId = new Map(catalog.map((m) => [m.id, m]));
  }

  /** A model pinned while the gateway runs, once the engine hosts it; listed after the ones served from the start. */
  add(model: CatalogModel): void {
    if (this.byId.has(model.id)) throw new RangeError(`model ${model.id} is already in the directory`);
    this.catalog.push(model);
    this.byId.set(model.id, model);
  }

  /** The pin of a served id, changed while the gateway runs: in the same place of the listing, from now on. */
  replace(model: CatalogModel): void {
    const index = this.catalog.findIndex((m) => m.id === model.id);
    if (index < 0) throw new RangeError(`model ${model.id} is not in the directory`);
    this.catalog[index] = model;
    this.byId.set(model.id, model);
  }

  /** A model unpinned while the gateway runs: unknown from now on, to named requests and to bidding alike. */
  remove(id: string): void {
    const index = this.catalog.findIndex((m) => m.id === id);
    if (index < 0) return;
    this.catalog.splice(index, 1);
    this.byId.delete(id);
  }

  list(): ListedModel[] {
    return this.catalog.map((model) => ({
      model,
      status: this.engine.status(model.id) ?? { id: model.id, state: "stopped", inFlight: 0, queued: 0 },
    }));
  }

  get(id: string): CatalogModel | undefined {
    return this.byId.get(id);
  }

  /** Whether an operator took `id` out of service (on every gateway and worker of the database), drained or draining. */
  isUnloaded(id: string): boolean {
    const state = this.engine.status(id)?.state;
    return state === "unloaded" || state === "draining";
  }

  /** The requested model, or the default for the capability; 404 for an unknown id, 400 for a wrong capability. */
  resolve(requested: string | undefined, capability: Capability): CatalogModel {
    // "auto" reaches here only where nothing is bid for (embeddings): it means the default, as no model would.
    if (requested === undefined || requested === "default" || requested === "auto") {
      const preferred = this.defaultModel ? this.byId.get(this.defaultModel) : undefined;
      if (preferred?.capabilities.includes(capability)) return preferred;
      const capable = this.catalog.filter((m) => m.capabilities.includes(capability));
      const ready = capable.find((m) => this.engine.status(m.id)?.state === "ready");
      const chosen = ready ?? capable[0];
      if (!chosen) throw notFound("model_not_found", `no model offers ${capability}`, "model");
      return chosen;
    }
    const model = this.byId.get(requested);
    if (!model) throw notFound("model_not_found", `model ${requested} does not exist`, "model");
    if (!model.capabilities.includes(capability)) {
      throw invalidRequest("model_capability_missing", `model ${requested} does not offer ${capability}`, "model");
    }
    return model;
  }
}
