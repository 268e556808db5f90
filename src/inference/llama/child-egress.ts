/**
 * The model host's egress guard. child.ts imports this module first, so it is installed before llama.cpp's
 * bindings load: a model host talks to its gateway over the IPC channel only and needs no network at all, so
 * every outbound connection, datagram and name lookup is refused. A refusal goes to stderr, which the gateway
 * logs as a line of this host (the host has no audit log of its own to write to).
 */
import { EgressAllowlist } from "../../egress/allowlist.js";
import { installEgressGuard } from "../../egress/guard.js";

installEgressGuard({
  allowlist: new EgressAllowlist([]),
  onDenied: (error) => process.stderr.write(`egress guard: ${error.message}\n`),
});
