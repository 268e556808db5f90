/**
 * Run by the builder inside the pruned, stripped stage, with the bundle's own Node.js, copied into app/ for the
 * duration (so that its imports resolve to app/node_modules and nothing else): proves that pruning left everything
 * the appliance loads. It imports every CLI command and bootstrap module (their static imports are the gateway's
 * and the worker's whole module graph), loads the native pieces (the Temporal bridge, Cedar's WASM, llama.cpp's
 * CPU build) and generates two tokens from a generated GGUF on the CPU. Prints one JSON line; exits 1 on the first
 * failure, naming it.
 *
 *   node app/.load-check.mjs        (cwd: app/)
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const app = dirname(fileURLToPath(import.meta.url));
const facts = { modules: 0 };

async function check(what, fn) {
  try {
    return await fn();
  } catch (error) {
    process.stderr.write(`load-check: ${what}: ${error?.stack ?? error}\n`);
    process.exit(1);
  }
}

for (const dir of ["dist/cli/commands", "dist/bootstrap"]) {
  for (const name of readdirSync(join(app, dir)).filter((n) => n.endsWith(".js"))) {
    await check(`import ${dir}/${name}`, () => import(pathToFileURL(join(app, dir, name)).href));
    facts.modules += 1;
  }
}

// The Temporal SDK's native bridge: loaded when the worker creates its runtime.
await check("@temporalio/worker Runtime (native bridge)", async () => {
  const { Runtime } = await import("@temporalio/worker");
  Runtime.instance();
});

// What src/policy/cedar.ts imports: the WASM is read and compiled as the module loads.
facts.cedar = await check("@cedar-policy/cedar-wasm/nodejs", async () => (await import("@cedar-policy/cedar-wasm/nodejs")).getCedarVersion());

// llama.cpp as the inference child starts it (src/inference/llama/child.ts), on a generated random-weight model.
facts.llama = await check("node-llama-cpp on the CPU", async () => {
  const { getLlama, LlamaCompletion, LlamaLogLevel } = await import("node-llama-cpp");
  const { buildTestModel } = await import(pathToFileURL(join(app, "dist", "models", "test-model.js")).href);
  const dir = mkdtempSync(join(tmpdir(), "atomic-load-check-"));
  try {
    const modelPath = join(dir, "check.gguf");
    writeFileSync(modelPath, buildTestModel({ seed: 1, name: "load-check" }));
    const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 64 });
    const text = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("a", { maxTokens: 2 });
    await llama.dispose();
    return { gpu: llama.gpu, generated: typeof text === "string" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

process.stdout.write(`${JSON.stringify(facts)}\n`);
process.exit(0);
