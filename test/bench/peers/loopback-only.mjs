/**
 * Preloaded (node --import) into Portkey's gateway by the peers bench. Portkey's start-server.js listens on every
 * interface and takes no host option; everything the bench starts must listen on 127.0.0.1 only. This binds any
 * TCP listen that names no host to 127.0.0.1; nothing else in the process changes.
 */
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  if (first === undefined || typeof first === "function") {
    // listen() or listen(callback): any port, which Node would bind on every interface.
    args.splice(0, first === undefined ? 1 : 0, 0, "127.0.0.1");
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback]): a host, when given, is the second argument and a string.
    if (typeof second === "string") args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
  } else if (first !== null && typeof first === "object" && first.path === undefined && first.fd === undefined && first._handle === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
