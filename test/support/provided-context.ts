/** Values the global setup provides to every test file through inject(). Import this file to type them. */
declare module "vitest" {
  export interface ProvidedContext {
    /** A server where tests may create and drop databases; each test file makes its own (createTestDatabase). */
    databaseUrl: string;
    /** The installed real model family's manifest (scripts/install-models.ts); see support/models.ts familyModels(). */
    familyManifest: string;
    /** The python of the venv holding the official OpenAI Python client (scripts/install-pyclient.mjs). */
    pyclientPython: string;
    /**
     * The run's build, laid out as the project's root (support/test-build.ts): a TypeScript file of test/ or
     * scripts/ is there compiled at the same path with .js for .ts, run with plain node (support/scripts.ts).
     */
    buildRoot: string;
    /** `atomic` as operators run it, compiled for the run (support/test-build.ts): `node <atomicCli> <args>`. */
    atomicCli: string;
    /** The task workflows bundled once for the run, beside atomicCli's build (support/test-build.ts). */
    workflowBundle: string;
    /** The run's temp folder, TMPDIR of every process the run starts, removed when it ends (support/run-temp.ts). */
    runTemp: string;
  }
}

export {};
