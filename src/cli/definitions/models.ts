import { InvalidArgumentError, type Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";
import { commaList, nonNegativeNumber, wholeNumber } from "../values.js";

const ADAPTER_CHANGES = `
Changes that put an adapter in service or take one out are audited
(adapter.promoted, adapter.fitted) in the database, a running gateway's embedded
one included. A running gateway follows the manifest within a second.`;

/** `--scale`: how strongly the adapter applies. */
function scale(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 100)) throw new InvalidArgumentError("must be a number above 0 and at most 100");
  return n;
}

export function defineModels(program: Command): void {
  const models = program.command("models").description("pin, verify and list models and their LoRA adapters (the manifest)");
  const load = async () => import("../commands/models.js");
  const adapters = async () => import("../commands/adapters.js");

  leafCommand(models, "add", "check a GGUF file, hash it and pin it in the manifest")
    .argument("<file>", "the model, a .gguf file")
    .option("--id <id>", "the model's id (default: from the file name)")
    .option("--capabilities <list>", "what it serves, comma-separated: chat, completion, embedding (default: all three)", commaList)
    .option("--parallel <n>", "requests it serves at once (default: 2)", nonNegativeNumber)
    .option("--cost-prompt <x>", "cost per 1,000 prompt tokens", nonNegativeNumber)
    .option("--cost-completion <y>", "cost per 1,000 completion tokens", nonNegativeNumber)
    .option("--cost-unit <unit>", "the unit of both costs", "compute-seconds")
    .option("--description <text>", "a description for the model list")
    .option("--replace", "replace a model already pinned under this id")
    .action(run(async () => (await load()).addModelCommand));
  leafCommand(models, "test-model", "write the random-weight test model (a GGUF that prints noise, for checking an install) and print its SHA-256")
    .requiredOption("--out <file>", "where to write it (refused if it exists)")
    .option("--seed <n>", "the weights' seed: the same seed gives the same bytes (default: 1, the model the gateway serves when nothing is pinned)", wholeNumber)
    .addHelpText("after", `
It is a tiny llama-architecture model with random weights: llama.cpp loads and runs it, and its answers are
noise. Pin it like any other model (atomic models add FILE --id NAME --capabilities chat,completion) to check
that an installation serves a model end to end without carrying real weights in.`)
    .action(run(async () => (await load()).testModelCommand));
  leafCommand(models, "verify", "re-hash every pinned model and adapter and check its header")
    .action(run(async () => (await load()).verifyModelsCommand));
  leafCommand(models, "list", "list pinned models: id, sha256, size, capabilities, file")
    .action(run(async () => (await load()).listModelsCommand));

  const service = async () => import("../commands/model-service.js");
  const SERVICE = `
Stored in the database with its audit event (models.unloaded / models.loaded), a
running gateway's embedded one included; every gateway and atomic worker of the
database follows within models.serviceStateRefreshMs, and keeps to it after a restart.`;
  leafCommand(models, "unload", "take a pinned model out of service on every gateway and worker (what they admitted finishes first)")
    .argument("<id>", "the pinned model")
    .addHelpText("after", SERVICE)
    .action(run(async () => (await service()).unloadModelCommand));
  leafCommand(models, "load", "put a model an operator unloaded back in service on every gateway and worker")
    .argument("<id>", "the pinned model")
    .addHelpText("after", SERVICE)
    .action(run(async () => (await service()).loadModelCommand));

  leafCommand(models, "add-adapter", "check a LoRA adapter against its base model, hash and pin it (promoted unless --candidate)")
    .argument("<file>", "the adapter, a LoRA .gguf file")
    .requiredOption("--base <model>", "the pinned base model it adapts")
    .option("--task <class>", "the task class it serves (default: every task class)")
    .option("--id <id>", "the adapter's id (default: <base>.<task class or any>.v<version>)")
    .option("--scale <s>", "how strongly it applies, above 0 and at most 100 (default: 1)", scale)
    .option("--candidate", "pin it without putting it in service (not audited, as models add)")
    .option("--description <text>", "a description for the adapter list")
    .addHelpText("after", ADAPTER_CHANGES)
    .action(run(async () => (await adapters()).addAdapterCommand));
  leafCommand(models, "adapters", "list pinned adapters: id, status, version, base, task class, scale, sha256, held-back accuracy, file")
    .action(run(async () => (await adapters()).listAdaptersCommand));

  const adapter = models.command("adapter").description("put an adapter in service, undo the last promotion, or fit one from rated examples")
    .addHelpText("after", ADAPTER_CHANGES);
  leafCommand(adapter, "promote", "put a pinned adapter in service for its task class")
    .argument("<id>", "the adapter's id (atomic models adapters)")
    .action(run(async () => (await adapters()).promoteAdapterCommand));
  leafCommand(adapter, "rollback", "undo the last promotion: the adapter before it (or the base model alone) serves again")
    .requiredOption("--base <model>", "the base model")
    .option("--task <class>", "the task class (default: every task class)")
    .option("--tenant <t>", "the tenant's own adapter slot")
    .action(run(async () => (await adapters()).rollbackAdapterCommand));
  leafCommand(adapter, "fit", "fit an adapter from rated examples and pin it; it is promoted if it does better on held-back examples than what serves now")
    .requiredOption("--base <model>", "the base model")
    .requiredOption("--examples <file>", 'rated examples, one JSON object a line: {"messages": [...], "label": "x"} or {"prompt": "...", "label": "x"}')
    .option("--task <class>", "the task class (default: every task class)")
    .option("--labels <list>", "the labels, comma-separated (default: those of the examples)", commaList)
    .option("--seed <n>", "seed of the held-back split and the fit", wholeNumber)
    .action(run(async () => (await adapters()).fitAdapterCommand));
}
