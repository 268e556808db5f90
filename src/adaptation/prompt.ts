import type { ChatMessage, GenerationInput } from "../inference/interface.js";
import { withSchemaShown } from "../pipeline/task-prompt.js";
import type { Classification } from "../policy/index.js";
import type { AdaptationPlan } from "./analyzer.js";
import type { ExemplarSelector } from "./exemplars/select.js";
import type { ExemplarText } from "./exemplars/text.js";

/**
 * The prompt engineer: the request's input as the model is given it, with what the plan adds. The model's own
 * chat template turns messages into its prompt in the model host; here only messages and completion prompts are
 * built, so every model gets exemplars in the form its template expects.
 *
 *   - chat: each exemplar is a user turn (its question) and an assistant turn (its answer), after the system
 *     messages and before the conversation;
 *   - completion (base models): exemplars become a few-shot block. A caller's prompt often is a few-shot prompt
 *     already ("Text: …\nTopic: business\n\nText: …\nTopic:"): when an exemplar's prompt shares its head with the
 *     request's, the head is written once and each exemplar contributes its own tail, from the line where they
 *     differ, so the examples land in the block the caller wrote;
 *   - schema instructions: the output schema in the system message, as tasks show it (the grammar constrains the
 *     output either way; this tells the model what the constraint means).
 */
export interface PromptAdditions {
  exemplars: readonly ExemplarText[];
  /** The schema to write into the prompt, as the model is given it (redacted where the request is). */
  schema?: Record<string, unknown>;
}

export function adaptedInput(input: GenerationInput, additions: PromptAdditions): GenerationInput {
  if (input.kind === "completion") {
    return additions.exemplars.length === 0 ? input : { kind: "completion", prompt: withFewShotBlock(input.prompt, additions.exemplars) };
  }
  let messages = input.messages;
  if (additions.exemplars.length > 0) messages = withExemplarTurns(messages, additions.exemplars);
  if (additions.schema !== undefined) messages = withSchemaShown(messages, additions.schema);
  return messages === input.messages ? input : { kind: "chat", messages };
}

function withExemplarTurns(messages: readonly ChatMessage[], exemplars: readonly ExemplarText[]): ChatMessage[] {
  const firstTurn = messages.findIndex((m) => m.role !== "system");
  const at = firstTurn === -1 ? messages.length : firstTurn;
  const turns = exemplars.flatMap((e): ChatMessage[] => [{ role: "user", content: e.question }, { role: "assistant", content: e.answer }]);
  return [...messages.slice(0, at), ...turns, ...messages.slice(at)];
}

const SEPARATOR = "\n\n";

function withFewShotBlock(prompt: string, exemplars: readonly ExemplarText[]): string {
  // A chat exemplar in a completion prompt: question, then answer on the next line.
  const texts = exemplars.map((e) => (e.completion ? `${e.question}${e.answer}` : `${e.question}\n${e.answer}`));
  const shared = Math.min(...texts.map((text) => sharedHead(prompt, text)));
  const head = prompt.slice(0, shared);
  const block = texts.map((text) => text.slice(shared).trimEnd()).join(SEPARATOR);
  return `${head}${block}${SEPARATOR}${prompt.slice(shared)}`;
}

/** Length of the common prefix of two texts, cut back to the start of a line (0 when they share no whole line). */
function sharedHead(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let i = 0;
  while (i < limit && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return a.lastIndexOf("\n", i - 1) + 1;
}

export interface PromptRequest {
  tenant: string;
  classification: Classification;
  plan: AdaptationPlan;
  /** The input as the model is given it (redacted where the policy says so). */
  input: GenerationInput;
  /** The output schema as the model is given it, for schema instructions. */
  schema?: Record<string, unknown>;
}

export interface EngineeredPrompt {
  input: GenerationInput;
  /** Execution ids of the exemplars shown, in prompt order. */
  exemplars: string[];
  /** Estimated prompt tokens they added. */
  exemplarTokens: number;
}

export interface PromptEngineer {
  build(request: PromptRequest): Promise<EngineeredPrompt>;
}

/** Builds the prompt the plan asks for: exemplars from the tenant's rated examples, and schema instructions. */
export class ExemplarPromptEngineer implements PromptEngineer {
  constructor(private readonly selector: ExemplarSelector) {}

  async build(request: PromptRequest): Promise<EngineeredPrompt> {
    const { plan } = request;
    let exemplars: ExemplarText[] = [];
    let exemplarTokens = 0;
    if (plan.strategies.includes("exemplars")) {
      const selection = await this.selector.select({
        tenant: request.tenant,
        taskClass: plan.taskClass,
        classification: request.classification,
        text: workOf(request.input),
        maxCount: plan.budget.exemplars,
        maxTokens: plan.budget.exemplarTokens,
      });
      exemplars = selection.chosen;
      exemplarTokens = selection.tokens;
    }
    const schema = plan.strategies.includes("schema_instructions") ? request.schema : undefined;
    return {
      input: adaptedInput(request.input, { exemplars, ...(schema === undefined ? {} : { schema }) }),
      exemplars: exemplars.map((e) => e.executionId),
      exemplarTokens,
    };
  }
}

/** The text exemplars are compared with: a chat's last user message, or the completion prompt. */
function workOf(input: GenerationInput): string {
  if (input.kind === "completion") return input.prompt;
  return input.messages.findLast((m) => m.role === "user")?.content ?? "";
}
