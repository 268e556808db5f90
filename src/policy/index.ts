export { CLASSIFICATIONS, classificationLevel, isClassification, type Classification } from "./classification.js";
export { DEFAULT_POLICY_DATA, PolicyDataSchema, type ModelAttributes, type PolicyData } from "./data.js";
export { CedarPolicyEngine, type PolicyEngineOptions } from "./engine.js";
export { policySetHash, type PolicyFile } from "./hash.js";
export * from "./interface.js";
export { compilePolicySet, loadPolicySet, PolicyLoadError, type CompiledPolicy, type LoadedPolicySet } from "./load.js";
export { runPolicyTests, type PolicyTestReport, type PolicyTestResult } from "./policy-tests.js";
export { PolicyStore, type ReloadResult } from "./store.js";
