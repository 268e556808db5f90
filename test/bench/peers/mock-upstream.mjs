/**
 * A mock OpenAI upstream for the peers bench: answers every POST …/chat/completions at once with a fixed
 * completion, on 127.0.0.1 and a free port, which it prints as one JSON line ({"url": …}). Plain Node, no
 * dependencies, in a process of its own so that it competes with neither the load generator nor a gateway.
 */
import { createServer } from "node:http";

const answer = Buffer.from(JSON.stringify({
  id: "chatcmpl-mock",
  object: "chat.completion",
  created: 0,
  model: "mock",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
}));

const server = createServer((request, response) => {
  // Read the body whole, as an upstream would, then answer.
  request.on("data", () => undefined);
  request.on("end", () => {
    if (request.method === "POST" && request.url?.endsWith("/chat/completions")) {
      response.writeHead(200, { "content-type": "application/json", "content-length": answer.length });
      response.end(answer);
    } else {
      response.writeHead(404, { "content-type": "application/json" });
      response.end('{"error":{"message":"not found"}}');
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
