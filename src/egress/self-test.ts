import net from "node:net";

export interface EgressProbe {
  target: string;
  /** true: a TCP connection to it was established, so this host can reach beyond the machine. */
  reached: boolean;
  /** Why it was not reached (ENETUNREACH, ECONNREFUSED, timeout), for the record. */
  error?: string;
}

export interface EgressSelfTest {
  probes: EgressProbe[];
  egressPossible: boolean;
}

/**
 * Tries a TCP connection to each target (host:port, IP literals so that no DNS query leaves either) and closes
 * any that succeeds at once. On an air-gapped appliance every probe fails; one that succeeds means the network
 * lets this host out, which `strict` mode refuses to run on. It tests the network, not the in-process guard, so
 * it runs before the guard is installed.
 */
export async function probeEgress(targets: readonly string[], timeoutMs: number): Promise<EgressSelfTest> {
  const probes = await Promise.all(targets.map((target) => probe(target, timeoutMs)));
  return { probes, egressPossible: probes.some((p) => p.reached) };
}

/** A probe target: an IP literal (no DNS query leaves) and a port, `1.2.3.4:443` or `[v6]:443`. */
export const PROBE_TARGET = /^(?:\[([0-9a-fA-F:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/;

function probe(target: string, timeoutMs: number): Promise<EgressProbe> {
  const match = PROBE_TARGET.exec(target);
  if (match === null) return Promise.resolve({ target, reached: false, error: "not an IP:port target" });
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: EgressProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ target, reached: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once("connect", () => done({ target, reached: true }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ target, reached: false, error: error.code ?? error.message }));
  });
}
