import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typesFromOpenApi, type OpenApiDocument } from "../../sdk/typescript/codegen/openapi-types.js";
import { ROUTES } from "../../sdk/typescript/src/routes.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * @atomic/sdk against one real gateway (orchestration on, a webhook receiver on loopback). The SDK is imported as it
 * ships: the bundle build.mjs makes, Atomic's audit verifier inside it; typed by its sources.
 */
type Sdk = typeof import("../../sdk/typescript/src/index.js");
type PublicJwk = import("../../sdk/typescript/src/index.js").PublicJwk;
type TrustedKeys = import("../../sdk/typescript/src/index.js").TrustedKeys;

const SDK_DIR = join(import.meta.dirname, "..", "..", "sdk", "typescript");

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback HTTP server answering with `handle`; what it was sent is kept. */
async function listen(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const received: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      handle(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let sdk: Sdk;
let gw: TestGateway;
let client: InstanceType<Sdk["AtomicClient"]>;
let jwk: PublicJwk;
let receiver: Awaited<ReturnType<typeof listen>>;
/** The synchronous task's execution id: its receipt and its event are looked for below. */
let syncTaskId: string;

beforeAll(async () => {
  receiver = await listen((_request, response) => response.writeHead(204).end());
  const bundleDir = mkdtempSync(join(tmpdir(), "atomic-sdk-"));
  const { address, namespace } = sharedTemporal("atomic-test-sdk-typescript");
  const [, started] = await Promise.all([
    promisify(execFile)(process.execPath, [join(SDK_DIR, "build.mjs"), "--js-only", "--outdir", bundleDir]),
    startTestGateway({
      models: writeTestModels([{ id: "tiny" }]),
      temporal: { address, namespace, hostId: "gateway-sdk-typescript-test" },
      webhooks: { allow: [receiver.origin], maxAttempts: 1 },
    }),
  ]);
  gw = started;
  sdk = (await import(pathToFileURL(join(bundleDir, "index.js")).href)) as Sdk;
  client = new sdk.AtomicClient({ baseUrl: `${gw.url}/v1`, apiKey: gw.adminKey, timeout: 60_000 });
  jwk = JSON.parse(readFileSync(join(gw.dataDir, "keys", "audit-signing.pub.jwk"), "utf8")) as PublicJwk;
});
afterAll(async () => {
  await gw?.close();
  await receiver?.close();
});

describe("the SDK and the gateway's OpenAPI document", () => {
  it("calls each operation by the method, path and query parameters the document gives it, and its types are the document's", async () => {
    const document = (await (await fetch(`${gw.url}/openapi.json`)).json()) as OpenApiDocument;
    for (const [operationId, route] of Object.entries(ROUTES)) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()] as { operationId: string; parameters?: Array<{ name: string; in: string }> } | undefined;
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(operationId);
      const query = (operation?.parameters ?? []).filter((parameter) => parameter.in === "query").map((parameter) => parameter.name);
      for (const name of route.query) expect(query, `${operationId}'s query`).toContain(name);
    }
    // Regenerate with `npx vitest run test/sdk/typescript.test.ts -u` after a change to the gateway's schemas.
    await expect(typesFromOpenApi(document, Object.keys(ROUTES))).toMatchFileSnapshot("../../sdk/typescript/src/api-types.ts");
  });
});

describe("the client against a running gateway", () => {
  it("registers and reads a schema, runs a synchronous task with it, reads its execution and decision, and posts feedback", async () => {
    const schema = { type: "object", properties: { answer: { type: "string", maxLength: 12 } }, required: ["answer"] };
    const registered = await client.schemas.register({ name: "sdk-answer", schema, description: "one short answer" });
    expect(registered).toMatchObject({ object: "schema", name: "sdk-answer", version: 1, schema });
    expect(await client.schemas.get("sdk-answer")).toEqual(registered);
    expect(await client.schemas.get("sdk-answer", 1)).toEqual(registered);
    expect((await client.schemas.list()).map((record) => record.name)).toContain("sdk-answer");

    const task = await client.tasks.create({ input: "Name one colour.", schema: { name: "sdk-answer" }, max_tokens: 48, seed: 1 });
    expect(task).toMatchObject({ object: "task", status: "succeeded", model: "tiny", schema: { name: "sdk-answer", version: 1 } });
    expect(typeof (task.result as { answer: unknown }).answer).toBe("string");
    syncTaskId = task.id;

    const execution = await client.executions.get(task.id);
    expect(execution).toMatchObject({ id: task.id, object: "execution", endpoint: "tasks", status: "succeeded", schema: { name: "sdk-answer", version: 1 } });
    const decision = await client.decisions.get(task.id);
    expect(decision).toMatchObject({ executionId: task.id });
    expect(decision.microtasks[0]!.choice).toMatchObject({ model: "tiny" });
    expect(await client.decisions.get(crypto.randomUUID()).catch((error: unknown) => error)).toMatchObject({ status: 404, code: "decision_not_found" });

    expect(await client.feedback.create({ execution_id: task.id, score: 0.9, comment: "fine" })).toMatchObject({ object: "feedback", execution_id: task.id });
  });

  it("throws AtomicError with the gateway's code, status and parameter", async () => {
    const missing = await client.schemas.get("no-such-schema").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(sdk.AtomicError);
    expect(missing).toMatchObject({ status: 404, code: "schema_not_found", type: "not_found_error", param: "name" });
    expect((missing as InstanceType<Sdk["AtomicError"]>).requestId).toBeTruthy();

    const invalid = await client.tasks.create({ input: "" }).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ status: 400, code: "invalid_parameter", param: "input" });

    const unreachable = new sdk.AtomicClient({ baseUrl: "http://127.0.0.1:1", apiKey: "x" });
    expect(await unreachable.schemas.list().catch((error: unknown) => error)).toMatchObject({ status: null, code: "connection_error" });
  });

  it("runs an asynchronous task to its end through its event stream, and its webhook's signature verifies", async () => {
    const accepted = await client.tasks.create({ input: "Say hello.", mode: "async", max_tokens: 4, webhook: { url: `${receiver.origin}/hooks?token=secret` } });
    expect(accepted).toMatchObject({ object: "task", mode: "async", status: "queued" });
    const events = [];
    for await (const event of client.tasks.events(accepted.id)) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "done", task: { id: accepted.id, status: "succeeded" } });
    for (const event of events.slice(0, -1)) expect(event.type).toBe("progress");
    // `done` comes once the result is recorded; the delivery may still be under way then (`webhook: {pending: true}`).
    let task = await client.tasks.get(accepted.id);
    while (task.status === "succeeded" && task.webhook !== null && "pending" in task.webhook) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      task = await client.tasks.get(accepted.id);
    }
    expect(task).toMatchObject({ status: "succeeded", webhook: { delivered: true, attempts: 1 }, decision: { executionId: accepted.id } });

    const delivery = receiver.received.find((received) => received.headers["x-atomic-task-id"] === accepted.id)!;
    expect(delivery).toBeDefined();
    const verdict = sdk.verifyWebhookSignature(delivery.body, delivery.headers, jwk);
    expect(verdict).toMatchObject({ ok: true, taskId: accepted.id, attempt: 1, key: { name: jwk.kid } });
    // A fetch Headers works as well as Node's IncomingHttpHeaders.
    const headers = new Headers(Object.entries(delivery.headers).map(([name, value]) => [name, String(value)] as [string, string]));
    expect(sdk.verifyWebhookSignature(delivery.body.toString("utf8"), headers, jwk).ok).toBe(true);

    const refused = (body: Buffer | string, changed: Record<string, string | undefined>, key: unknown = jwk, now?: number) =>
      sdk.verifyWebhookSignature(body, { ...delivery.headers, ...changed }, key as PublicJwk, now === undefined ? {} : { now });
    const body = delivery.body.toString("utf8");
    expect(refused(body.replace("succeeded", "failed"), {})).toMatchObject({ ok: false, code: "body_mismatch" });
    expect(refused(body, { "x-atomic-task-id": crypto.randomUUID() })).toMatchObject({ ok: false, code: "task_mismatch" });
    expect(refused(body, { "x-atomic-delivery-attempt": "2" })).toMatchObject({ ok: false, code: "attempt_mismatch" });
    expect(refused(body, { "x-atomic-signature": undefined })).toMatchObject({ ok: false, code: "signature_missing" });
    const [protectedPart, payload, signature] = String(delivery.headers["x-atomic-signature"]).split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), attempt: 2 })).toString("base64url");
    expect(refused(body, { "x-atomic-signature": `${protectedPart}.${forged}.${signature}`, "x-atomic-delivery-attempt": "2" })).toMatchObject({ ok: false, code: "signature_invalid" });
    expect(refused(body, {}, otherKey(jwk.kid))).toMatchObject({ ok: false, code: "signature_invalid" });
    expect(refused(body, {}, jwk, Date.now() + 3_600_000)).toMatchObject({ ok: false, code: "timestamp_out_of_tolerance", reason: expect.stringContaining("beyond the tolerance of 300 s") });
  });

  it("cancels an asynchronous task, and a second cancel is AtomicError task_not_running", async () => {
    const { id } = await client.tasks.create({ input: "1. Count to a thousand\n2. Then count back", mode: "async", max_tokens: 2000 });
    expect(await client.tasks.cancel(id)).toMatchObject({ id, status: "cancelling" });
    expect(await client.tasks.wait(id)).toMatchObject({ id, status: "cancelled" });
    expect(await client.tasks.cancel(id).catch((error: unknown) => error)).toMatchObject({ status: 409, code: "task_not_running" });
  });
});

/** A JWK of a key that is not the log's, under the log's key name. */
function otherKey(kid: string): PublicJwk {
  const { publicKey } = generateKeyPairSync("ed25519");
  return { ...(publicKey.export({ format: "jwk" }) as { kty: "OKP"; crv: "Ed25519"; x: string }), kid };
}

describe("receipts verified offline", () => {
  it("fetches its own execution's receipt with a key that holds no audit:read, and it verifies", async () => {
    const app = new sdk.AtomicClient({ baseUrl: `${gw.url}/v1`, apiKey: await gw.issueKey("default", ["tasks"]), timeout: 60_000 });
    expect(await app.audit.receipt(syncTaskId).catch((error: unknown) => error)).toMatchObject({ status: 403, code: "insufficient_scope" });
    await gw.gateway.audit.sequencer.drain();
    const receipt = await app.executions.receipt(syncTaskId);
    expect(sdk.verifyReceipt(receipt, null, jwk)).toMatchObject({ ok: true, eventId: syncTaskId, kind: "request", held: false });
    const checkpoint = await client.audit.checkpoint();
    const tree = sdk.verifyCheckpoint(checkpoint, jwk);
    const inHeld = await app.executions.receipt(syncTaskId, { treeSize: tree.ok ? tree.treeSize : 0 });
    expect(sdk.verifyReceipt(inHeld, checkpoint, jwk)).toMatchObject({ ok: true, eventId: syncTaskId, held: true });
  });

  it("verifies a task's receipt against the signed checkpoint, and names what is wrong with each tampered part", async () => {
    await gw.gateway.audit.sequencer.drain();
    const checkpoint = await client.audit.checkpoint();
    const tree = sdk.verifyCheckpoint(checkpoint, jwk);
    expect(tree).toMatchObject({ ok: true, key: { name: jwk.kid } });
    const treeSize = tree.ok ? tree.treeSize : 0;
    const receipt = await client.audit.receipt(syncTaskId, { treeSize });
    expect(sdk.verifyReceipt(receipt, checkpoint, jwk)).toMatchObject({ ok: true, eventId: syncTaskId, kind: "request", treeSize, key: { name: jwk.kid }, held: true });
    // Holding no checkpoint: inclusion in a tree the log signed.
    expect(sdk.verifyReceipt(receipt, null, jwk)).toMatchObject({ ok: true, held: false });

    const verify = (changed: Partial<typeof receipt>, held = checkpoint, key: unknown = jwk) => sdk.verifyReceipt({ ...receipt, ...changed }, held, key as PublicJwk);
    const flipped = (base64: string, at: number) => {
      const bytes = Buffer.from(base64, "base64");
      bytes[at]! ^= 0x01;
      return bytes.toString("base64");
    };
    // A node of the proof.
    expect(verify({ inclusion_proof: [flipped(receipt.inclusion_proof[0]!, 0), ...receipt.inclusion_proof.slice(1)] })).toMatchObject({ ok: false, code: "inclusion_failed" });
    // The leaf, alone and then with its hashes made to match: the proof no longer leads to the signed root.
    const leaf = receipt.leaf.replace('"status":"succeeded"', '"status":"failed"');
    expect(leaf).not.toBe(receipt.leaf);
    expect(verify({ leaf })).toMatchObject({ ok: false, code: "leaf_hash_mismatch" });
    const leafHash = createHash("sha256").update(Buffer.concat([Buffer.of(0), Buffer.from(leaf)])).digest("base64");
    const chainHash = createHash("sha256").update(leaf).digest("hex");
    expect(verify({ leaf, leaf_hash: leafHash, chain_hash: chainHash })).toMatchObject({ ok: false, code: "inclusion_failed" });
    // The checkpoint's signature: the receipt's copy, and the one held.
    const [body, signatureLine] = [checkpoint.slice(0, checkpoint.lastIndexOf("\n\n") + 2), checkpoint.slice(checkpoint.lastIndexOf("\n\n") + 2)];
    const [dash, name, signature] = signatureLine.trim().split(" ");
    const forged = `${body}${dash} ${name} ${flipped(signature!, 10)}\n`;
    expect(verify({ checkpoint: forged })).toMatchObject({ ok: false, code: "checkpoint_signature", reason: expect.stringContaining("does not verify") });
    expect(verify({}, forged)).toMatchObject({ ok: false, code: "checkpoint_signature", reason: expect.stringContaining("the checkpoint you hold") });
    // The key: another key under the log's name, and a JWK that is no public key.
    expect(verify({}, checkpoint, otherKey(jwk.kid))).toMatchObject({ ok: false, code: "checkpoint_signature", reason: expect.stringContaining("no signature by key") });
    expect(verify({}, checkpoint, { ...jwk, d: "AAAA" })).toMatchObject({ ok: false, code: "key_invalid" });
    expect(sdk.verifyCheckpoint(forged, jwk)).toMatchObject({ ok: false, code: "checkpoint_signature" });

    // The log has grown since (each read is itself an audit event): the latest tree's receipt is not for the tree held.
    await gw.gateway.audit.sequencer.drain();
    const latest = await client.audit.receipt(syncTaskId);
    expect(latest.tree_size).toBeGreaterThan(treeSize);
    expect(sdk.verifyReceipt(latest, checkpoint, jwk)).toMatchObject({ ok: false, code: "checkpoint_mismatch", reason: expect.stringContaining(`tree_size=${treeSize}`) });
  });
});

/** The vectors every Atomic SDK checks its verifiers against (sdk/testdata/make-vectors.ts makes them). */
interface Vectors {
  /** keys: JWKs, and {key, retired_at} for a retired key (the SDK's { key, retiredAt }). */
  receipts: Array<{ name: string; receipt: unknown; keys: unknown; held_checkpoint?: string; expect: Record<string, unknown> }>;
  webhooks: Array<{ name: string; body: string; headers: Record<string, string>; keys: PublicJwk[]; now: number; tolerance_seconds: number; expect: Record<string, unknown> }>;
}

describe("the shared test vectors (sdk/testdata/vectors.json)", () => {
  const vectors = JSON.parse(readFileSync(join(SDK_DIR, "..", "testdata", "vectors.json"), "utf8")) as Vectors;

  /** The vectors' keys in this SDK's words. */
  const keysOf = (keys: unknown) =>
    (Array.isArray(keys) ? keys.map((entry: unknown) => (typeof entry === "object" && entry !== null && "retired_at" in entry ? { key: (entry as { key?: unknown }).key, retiredAt: entry.retired_at } : entry)) : keys) as TrustedKeys;

  it("decides every receipt as Atomic's verifier does", () => {
    expect(vectors.receipts.length).toBeGreaterThan(0);
    const codes = new Set(vectors.receipts.map((vector) => vector.expect["code"]));
    for (const code of ["key_retired", "key_unbounded", "rotation_invalid"]) expect(codes).toContain(code);
    for (const vector of vectors.receipts) {
      const verdict = sdk.verifyReceipt(vector.receipt, vector.held_checkpoint ?? null, keysOf(vector.keys));
      const inVectorWords = verdict.ok
        ? { ok: true, event_id: verdict.eventId, kind: verdict.kind, index: verdict.index, origin: verdict.origin, tree_size: verdict.treeSize, root: verdict.root, key: { name: verdict.key.name, key_id: verdict.key.keyId, fingerprint: verdict.key.fingerprint }, held: verdict.held }
        : { ok: false, code: verdict.code };
      expect(inVectorWords, vector.name).toEqual(vector.expect);
    }
  });

  it("decides every webhook delivery as the vectors say", () => {
    expect(vectors.webhooks.length).toBeGreaterThan(0);
    for (const vector of vectors.webhooks) {
      const verdict = sdk.verifyWebhookSignature(vector.body, vector.headers, vector.keys, { now: vector.now * 1000, toleranceSeconds: vector.tolerance_seconds });
      const inVectorWords = verdict.ok ? { ok: true, task_id: verdict.taskId, attempt: verdict.attempt, iat: verdict.signedAt.getTime() / 1000 } : { ok: false, code: verdict.code };
      expect(inVectorWords, vector.name).toEqual(vector.expect);
    }
  });

  it("verifies no delivery with a key given only as retired: the gateway signs each with its current key", () => {
    const named = (name: string) => vectors.webhooks.find((vector) => vector.name === name)!;
    const vector = named("valid");
    const [key] = vector.keys as [PublicJwk];
    const [other] = named("valid after a rotation: the second key signed").keys as [PublicJwk];
    const verify = (keys: TrustedKeys) => sdk.verifyWebhookSignature(vector.body, vector.headers, keys, { now: vector.now * 1000 });
    expect(verify([{ key, retiredAt: 5 }])).toEqual({ ok: false, code: "key_invalid", reason: expect.stringContaining("every key given is retired") });
    expect(verify({ key, retiredAt: 5 })).toMatchObject({ ok: false, code: "key_invalid" });
    expect(verify([{ key, retiredAt: 5 }, other])).toEqual({ ok: false, code: "signature_invalid", reason: expect.stringContaining("not used for webhooks") });
    // Given without a bound too, the key takes the bound given (as for receipts): still retired.
    expect(verify([key, { key, retiredAt: 5 }])).toMatchObject({ ok: false, code: "key_invalid" });
    // The same key given without a bound verifies it, beside a retired key too.
    expect(verify(key)).toMatchObject({ ok: true, taskId: vector.expect["task_id"] });
    expect(verify([{ key: other, retiredAt: 5 }, key])).toMatchObject({ ok: true, taskId: vector.expect["task_id"] });
  });
});

describe("keys after a rotation (the shared vectors' receipts)", () => {
  const vectors = JSON.parse(readFileSync(join(SDK_DIR, "..", "testdata", "vectors.json"), "utf8")) as Vectors;
  const named = (name: string) => vectors.receipts.find((vector) => vector.name === name)!;
  const receipt = named("valid").receipt as { tree_size: number; checkpoint: string };
  const [key] = named("valid").keys as [PublicJwk];
  const [other] = named("two keys without a bound").keys as [PublicJwk];

  it("holds a retired key given as { key, retiredAt } to its bound, and the single key works as before", () => {
    expect(sdk.verifyReceipt(receipt, null, key)).toMatchObject({ ok: true, treeSize: receipt.tree_size });
    expect(sdk.verifyReceipt(receipt, null, [{ key, retiredAt: receipt.tree_size }, other])).toMatchObject({ ok: true, treeSize: receipt.tree_size });
    expect(sdk.verifyReceipt(receipt, null, [{ key, retiredAt: receipt.tree_size - 1 }, other])).toEqual({
      ok: false,
      code: "key_retired",
      reason: expect.stringContaining(`but you gave it as retired at leaf ${receipt.tree_size - 1} (retiredAt): it signs trees of at most ${receipt.tree_size - 1} leaves`),
    });
    expect(sdk.verifyReceipt(receipt, null, [other, key])).toMatchObject({ ok: false, code: "key_unbounded", reason: expect.stringContaining("give each retired key as { key, retiredAt }") });
    // A receipt of the key.rotated event bounds the key it retires.
    const past = named("key.rotated leaf in a tree the key it retires signed");
    expect(sdk.verifyReceipt(past.receipt, null, past.keys as PublicJwk[])).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the key.rotated leaf at index 6 retired it") });
  });

  it("holds checkpoints to the same rule", () => {
    expect(sdk.verifyCheckpoint(receipt.checkpoint, key)).toMatchObject({ ok: true, treeSize: receipt.tree_size });
    expect(sdk.verifyCheckpoint(receipt.checkpoint, [{ key: other, retiredAt: 3 }, key])).toMatchObject({ ok: true, treeSize: receipt.tree_size });
    expect(sdk.verifyCheckpoint(receipt.checkpoint, [other, key])).toMatchObject({ ok: false, code: "key_unbounded" });
    expect(sdk.verifyCheckpoint(receipt.checkpoint, [{ key, retiredAt: 3 }, other])).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringMatching(/^the checkpoint of \d+ leaves is signed by key /) });
  });

  it("refuses a bound that is no leaf index, a key bounded twice, and a member it does not know (key_invalid)", () => {
    const refusal = (keys: unknown) => sdk.verifyReceipt(receipt, null, keys as TrustedKeys);
    expect(refusal([{ key, retiredAt: -1 }])).toMatchObject({ ok: false, code: "key_invalid", reason: expect.stringContaining("retiredAt -1 is not a non-negative integer") });
    expect(refusal([{ key, retiredAt: 1.5 }])).toMatchObject({ ok: false, code: "key_invalid" });
    expect(refusal([{ key, retiredAt: 3 }, { key, retiredAt: 3 }])).toMatchObject({ ok: false, code: "key_invalid", reason: expect.stringContaining("is given with retiredAt twice") });
    expect(refusal([{ key, retired_at: 3 }])).toMatchObject({ ok: false, code: "key_invalid", reason: expect.stringContaining('unexpected member "retired_at"') });
    expect(sdk.verifyCheckpoint(receipt.checkpoint, [{ key, retiredAt: "3" } as never])).toMatchObject({ ok: false, code: "key_invalid" });
  });
});

describe("the tenant's event stream", () => {
  it("reads events in id order and resumes after a Last-Event-ID", async () => {
    const signal = AbortSignal.timeout(30_000);
    const seen = [];
    for await (const event of client.events.stream({ signal })) {
      seen.push(event);
      if (event.kind === "request" && event.event.id === syncTaskId) break;
    }
    // At least the schema's registration, then the task's request.
    expect(seen.map((event) => event.kind)).toEqual(expect.arrayContaining(["schema.registered", "request"]));
    const ids = seen.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const event of seen) expect(event.event.actor?.tenant).toBe("default");

    const resumed = [];
    for await (const event of client.events.stream({ lastEventId: seen.at(-2)!.id, signal })) {
      resumed.push(event.id);
      if (resumed.length === 2) break;
    }
    expect(resumed[0]).toBe(seen.at(-1)!.id);
    expect(resumed[1]).toBeGreaterThan(resumed[0]!);

    const requests = [];
    for await (const event of client.events.stream({ kinds: ["request"], signal })) {
      requests.push(event);
      if (event.event.id === syncTaskId) break;
    }
    for (const event of requests) expect(event.kind).toBe("request");
  });

  it("reconnects a broken stream with the last id it received", async () => {
    // A server that ends each stream after one event: the SDK's reconnection is what is under test, not the gateway.
    const event = (id: number) => `id: ${id}\nevent: request\ndata: ${JSON.stringify({ v: 1, id: `e${id}`, time: new Date().toISOString(), kind: "request" })}\n\n`;
    let next = 5;
    const broken = await listen((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" }).end(`: hello\n\n${event(next)}`);
      next += 2;
    });
    try {
      const stream = new sdk.AtomicClient({ baseUrl: broken.origin, apiKey: "k" }).events.stream({ lastEventId: 3, reconnectDelayMs: 10, signal: AbortSignal.timeout(10_000) });
      const ids = [];
      for await (const received of stream) {
        ids.push(received.id);
        if (ids.length === 3) break;
      }
      expect(ids).toEqual([5, 7, 9]);
      expect(broken.received.map((request) => request.headers["last-event-id"])).toEqual(["3", "5", "7"]);
      expect(broken.received[0]!.headers["authorization"]).toBe("Bearer k");
    } finally {
      await broken.close();
    }
  });
});
