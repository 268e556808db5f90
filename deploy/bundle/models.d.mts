// Types for models.mjs (plain JavaScript, like the rest of the builder), for the tests that import it.

/** A model as models/family.json pins it (the fields the builder reads). */
export interface PinnedModel {
  id: string;
  role: string;
  description: string;
  packages: { name: string; version: string; sha256: string }[];
  licence: { name: string; files: { package: string; member: string; as: string }[] };
  file: string;
  sha256: string;
  sizeBytes: number;
  capabilities: string[];
}

export declare const MODELS_DIR: "models";
export declare const WHOLE_FAMILY: "family";

export declare function parseFamilyPins(text: string, source: string): PinnedModel[];
export declare function describeFamily(pins: PinnedModel[]): string[];
export declare function chooseModels(flag: string | undefined, pins: PinnedModel[]): PinnedModel[];
export declare function nameSuffix(chosen: PinnedModel[], pins: PinnedModel[]): string;
export declare function installChosenModels(log: unknown, repo: string, tree: string, chosen: PinnedModel[]): Promise<string>;
export declare function addCarriedModels(home: string, stage: string, chosen: PinnedModel[]): void;
export declare function describeCarried(chosen: PinnedModel[]): {
  id: string; role: string; file: string; sha256: string; sizeBytes: number; capabilities: string[]; licence: string; licenceFiles: string; packages: string[];
}[];
export declare function assertOnlyCarriedModels(root: string, chosen: PinnedModel[]): Promise<void>;
