#!/usr/bin/env node
/**
 * `npm run build` step after tsc: bundles the compiled workflow code into dist/orchestration/workflow-bundle.js,
 * which `atomic worker` loads with `workflowBundle` (no webpack at worker start).
 */
import { buildWorkflowBundle } from "../dist/orchestration/bundle.js";

const file = await buildWorkflowBundle();
process.stderr.write(`bundle-workflows: wrote ${file}\n`);
