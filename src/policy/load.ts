import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cedar, describeCedarError } from "./cedar.js";
import { DEFAULT_POLICY_DATA, PolicyDataSchema, type PolicyData } from "./data.js";
import { ENTITY_TYPES, modelEntity, userEntity } from "./entities.js";
import { policySetHash, type PolicyFile } from "./hash.js";

export const SCHEMA_FILE = "atomic.cedarschema";
export const DATA_FILE = "entities.json";
const POLICY_SUFFIX = ".cedar";

export interface CompiledPolicy {
  /** Its @id("...") annotation, else "<file>#<n>" (n counting from 1 in the file). */
  id: string;
  file: string;
  line: number;
  effect: "permit" | "forbid";
  text: string;
  /** It names a particular user (an Atomic::User entity literal), so its decisions depend on who, not only on which tenant. */
  namesUser: boolean;
}

/** A parsed, schema-validated policy set, ready for Cedar; immutable once built. */
export interface LoadedPolicySet {
  source: string;
  hash: string;
  /** The files that make up the set (and its hash), in name order. */
  files: readonly string[];
  policies: readonly CompiledPolicy[];
  data: PolicyData;
  schemaText: string;
  /** Strict-mode validator warnings (e.g. a policy that can never apply); they do not refuse the set. */
  warnings: readonly string[];
  /** Key of the preparsed set in Cedar's cache: parsed once here, never per decision. */
  cedarId: string;
  /**
   * Whether any policy names a particular user. If none does, a decision depends on the principal only through its
   * tenant and scopes (the User entity has no other attributes, and no attribute refers to a User), so the engine
   * may share remembered decisions across a tenant's users.
   */
  subjectMatters: boolean;
}

/** Why a policy set was refused: every problem found, each naming its file (and line:column where Cedar gave one). */
export class PolicyLoadError extends Error {
  override readonly name = "PolicyLoadError";
  constructor(readonly problems: readonly string[]) {
    super(`policy set refused: ${problems.join("; ")}`);
  }
}

/**
 * Reads a policy folder: every *.cedar file, the schema (atomic.cedarschema) that each policy is validated
 * against in Cedar's strict mode, and entities.json (model and tenant attributes, optional). Sub-folders (tests/)
 * and other files are not part of the set. Throws PolicyLoadError and changes nothing if any part is refused.
 */
export function loadPolicySet(dir: string): LoadedPolicySet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PolicyLoadError([`${dir}: not a folder`]);
  const names = readdirSync(dir)
    .filter((name) => name.endsWith(POLICY_SUFFIX) || name.endsWith(".cedarschema") || name === DATA_FILE)
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
  return compilePolicySet(names.map((name) => ({ name, text: readFileSync(join(dir, name), "utf8") })), dir);
}

/** The same from files in memory; `source` only names them in errors. */
export function compilePolicySet(files: readonly PolicyFile[], source = "(memory)"): LoadedPolicySet {
  const problems: string[] = [];
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const schemaFiles = sorted.filter((f) => f.name.endsWith(".cedarschema"));
  if (schemaFiles.length !== 1 || schemaFiles[0]!.name !== SCHEMA_FILE) {
    throw new PolicyLoadError([`${source}: needs exactly one schema, ${SCHEMA_FILE} (found ${schemaFiles.map((f) => f.name).join(", ") || "none"})`]);
  }
  const schema = schemaFiles[0]!;
  const parsedSchema = cedar.checkParseSchema(schema.text);
  if (parsedSchema.type === "failure") throw new PolicyLoadError(parsedSchema.errors.map((e) => describeCedarError(schema.name, schema.text, e)));

  const dataFile = sorted.find((f) => f.name === DATA_FILE);
  const data = dataFile ? parseData(dataFile, problems) : DEFAULT_POLICY_DATA;

  const policies: CompiledPolicy[] = [];
  for (const file of sorted.filter((f) => f.name.endsWith(POLICY_SUFFIX))) policies.push(...splitPolicies(file, problems));
  const seen = new Map<string, CompiledPolicy>();
  for (const policy of policies) {
    const first = seen.get(policy.id);
    if (first) problems.push(`${policy.file}:${policy.line}: policy id "${policy.id}" is already used at ${first.file}:${first.line}`);
    else seen.set(policy.id, policy);
  }
  if (problems.length > 0) throw new PolicyLoadError(problems);

  const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
  const warnings = validatePolicies(schema.text, policies, staticPolicies, sorted, problems);
  if (dataFile) checkDataAgainstSchema(schema.text, data, problems);
  if (problems.length > 0) throw new PolicyLoadError(problems);

  const hash = policySetHash(sorted);
  const cedarId = `atomic-${hash}`;
  const preparsed = cedar.preparsePolicySet(cedarId, { staticPolicies });
  if (preparsed.type === "failure") throw new PolicyLoadError(preparsed.errors.map((e) => `${source}: ${e.message}`));
  const subjectMatters = policies.some((p) => p.namesUser);
  return { source, hash, files: sorted.map((f) => f.name), policies, data, schemaText: schema.text, warnings, cedarId, subjectMatters };
}

/** The same policies with other model and tenant attributes (policy tests' overlays); hash and Cedar set unchanged. */
export function withPolicyData(set: LoadedPolicySet, data: PolicyData): LoadedPolicySet {
  return { ...set, data };
}

function parseData(file: PolicyFile, problems: string[]): PolicyData {
  let raw: unknown;
  try {
    raw = JSON.parse(file.text);
  } catch (error) {
    problems.push(`${file.name}: not valid JSON: ${(error as Error).message}`);
    return DEFAULT_POLICY_DATA;
  }
  const parsed = PolicyDataSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(`${file.name}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return DEFAULT_POLICY_DATA;
}

/** Splits a file into its policies, in file order, so that each gets an id and a line of its own. */
function splitPolicies(file: PolicyFile, problems: string[]): CompiledPolicy[] {
  const parsed = cedar.checkParsePolicySet({ staticPolicies: file.text });
  if (parsed.type === "failure") {
    for (const error of parsed.errors) problems.push(describeCedarError(file.name, file.text, error));
    return [];
  }
  const parts = cedar.policySetTextToParts(file.text);
  if (parts.type === "failure") {
    for (const error of parts.errors) problems.push(describeCedarError(file.name, file.text, error));
    return [];
  }
  if (parts.policy_templates.length > 0) {
    problems.push(`${file.name}: policy templates are not supported (every policy must be static)`);
    return [];
  }
  // Cedar returns the policies' own text, sorted by its internal ids; their place in the file restores the order.
  const used = new Set<number>();
  const located = parts.policies.map((text) => {
    let at = file.text.indexOf(text);
    while (at >= 0 && used.has(at)) at = file.text.indexOf(text, at + 1);
    used.add(at);
    return { text, at };
  }).sort((a, b) => a.at - b.at);
  return located.map(({ text, at }, index) => {
    const json = cedar.policyToJson(text);
    const annotated = json.type === "success" ? json.json.annotations?.["id"] : undefined;
    return {
      id: annotated && annotated.length > 0 ? annotated : `${file.name}#${index + 1}`,
      file: file.name,
      line: at < 0 ? 0 : file.text.slice(0, at).split("\n").length,
      effect: json.type === "success" ? json.json.effect : text.trimStart().startsWith("forbid") ? "forbid" : "permit",
      text,
      // Unreadable as JSON: assume the worst, that it names a user.
      namesUser: json.type === "success" ? namesUser(json.json) : true,
    };
  });
}

function namesUser(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(namesUser);
  if (value === null || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  if (record["type"] === ENTITY_TYPES.user && typeof record["id"] === "string") return true;
  return Object.values(record).some(namesUser);
}

function validatePolicies(schemaText: string, policies: CompiledPolicy[], staticPolicies: Record<string, string>, files: PolicyFile[], problems: string[]): string[] {
  const answer = cedar.validate({ schema: schemaText, policies: { staticPolicies }, validationSettings: { mode: "strict" } });
  if (answer.type === "failure") {
    for (const error of answer.errors) problems.push(describeCedarError(SCHEMA_FILE, schemaText, error));
    return [];
  }
  const byId = new Map(policies.map((p) => [p.id, p]));
  const describe = (policyId: string, error: Parameters<typeof describeCedarError>[2]) => {
    const policy = byId.get(policyId);
    if (!policy) return `${policyId}: ${error.message}`;
    const fileText = files.find((f) => f.name === policy.file)?.text ?? "";
    const offset = Math.max(0, fileText.indexOf(policy.text));
    return `${describeCedarError(policy.file, fileText, error, offset)} [policy ${policy.id}]`;
  };
  // Cedar reports a type error once per action the policy could apply to; one line per distinct problem is enough.
  for (const line of new Set(answer.validationErrors.map((e) => describe(e.policyId, e.error)))) problems.push(line);
  return [...new Set(answer.validationWarnings.map((e) => describe(e.policyId, e.error)))];
}

/** The attributes in entities.json must fit the schema the policies were checked against, or decisions would error. */
function checkDataAgainstSchema(schemaText: string, data: PolicyData, problems: string[]): void {
  const digest = "0".repeat(64);
  const entities = [
    userEntity({ tenant: "schema-check", subject: "schema-check", scopes: [] }),
    modelEntity({ ...data, models: {} }, { id: "(default model)", sha256: digest }),
    ...Object.keys(data.models).map((id) => modelEntity(data, { id, sha256: digest })),
  ];
  const answer = cedar.checkParseEntities({ entities, schema: schemaText });
  if (answer.type === "failure") for (const error of answer.errors) problems.push(`${DATA_FILE}: ${error.message}`);
}
