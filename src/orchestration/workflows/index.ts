/**
 * Every workflow a worker registers. Workflow code runs in Temporal's deterministic sandbox: no I/O, clocks or
 * randomness of its own; side effects happen in ../activities. This file is the entry of the workflow bundle
 * (bundleWorkflowCode in production, workflowsPath in tests).
 */
export { taskWorkflow, taskProgressQuery, taskStateQuery, cancelTaskUpdate } from "./task.js";
export { hostDirectoryWorkflow, advertiseHostSignal, withdrawHostSignal, listHostsQuery } from "./host-directory.js";
