import { existsSync } from "node:fs";
import type { Config } from "../config/schema.js";
import { loadCatalog, type CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";

export interface CatalogFromConfigOptions {
  /** Serve the generated test model when nothing is pinned; default: as `models.testModelWhenEmpty` says. */
  testModelWhenEmpty?: boolean;
  /** Where to say which family models were left out, and why the test model is served. */
  logger?: Logger;
}

/**
 * The models this process serves, as `models` in the config says: the site's manifest, then the installed model
 * family, else the generated test model. One place for the gateway, the worker and the CLI.
 */
export function catalogFromConfig(config: Config, options: CatalogFromConfigOptions = {}): CatalogModel[] {
  const family = config.models.family === "" ? undefined : config.models.family;
  const catalog = loadCatalog({
    manifestPath: config.models.manifest,
    ...(family === undefined ? {} : { familyManifestPath: family }),
    dataDir: config.dataDir,
    testModelWhenEmpty: options.testModelWhenEmpty ?? config.models.testModelWhenEmpty,
    onOmitted: (model, reason) => options.logger?.warn({ model: model.id }, `model family: ${model.id} left out: ${reason}`),
  });
  const logger = options.logger;
  if (logger !== undefined) {
    for (const model of catalog.filter((m) => m.testModel)) {
      const why = family !== undefined && !existsSync(family)
        ? `the real model family is not installed (${family} is missing; run npm run models:install)`
        : "no model is pinned";
      logger.warn({ model: model.id, path: model.path }, `${why}: serving the generated ${model.description}`);
    }
  }
  return catalog;
}
