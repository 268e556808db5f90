/**
 * The peers bench's table and its ratios against the goal of issue 18: Atomic adds at most half of what the
 * faster peer adds, at p50 and at p99, and serves more requests/s than either.
 */
import { percentile, round } from "../stats.js";

export interface Measured {
  name: string;
  /** Milliseconds per sequential request, every round's together. */
  latency: number[];
  /** The same, one array per round: the spread between rounds says how noisy the machine was. */
  latencyRounds: number[][];
  /** Requests/s with `concurrency` in flight, one per round. */
  perSecond: number[];
  /** Milliseconds per request with `concurrency` in flight, every round's together. */
  atConcurrency: number[];
}

interface Shape {
  rounds: number;
  requests: number;
  concurrency: number;
  throughputMs: number;
}

// NaN: nothing to take a percentile of (a smoke run's window can end before a slow gateway answers once).
const ms = (value: number) => (Number.isNaN(value) ? "—" : `${round(value, value < 10 ? 2 : 1)} ms`);
const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const median = (values: number[]) => percentile(values, 50);

/** A gateway's figures net of the baseline's. */
function added(gateway: Measured, baseline: Measured) {
  const byRound = gateway.latencyRounds.map((sample, i) => percentile(sample, 50) - percentile(baseline.latencyRounds[i]!, 50));
  return {
    p50: percentile(gateway.latency, 50) - percentile(baseline.latency, 50),
    p99: percentile(gateway.latency, 99) - percentile(baseline.latency, 99),
    p50Low: Math.min(...byRound),
    p50High: Math.max(...byRound),
    perSecond: median(gateway.perSecond),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `   ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("   ")}`).join("\n");
}

export function printReport(run: { baseline: Measured; atomic: Measured; peers: Measured[] }, shape: Shape): void {
  const { baseline, atomic, peers } = run;
  console.log(`\nadded latency, one request at a time (${shape.rounds} round(s) × ${shape.requests} requests per target), and requests/s with ${shape.concurrency} in flight (median of ${shape.rounds} round(s) × ${shape.throughputMs / 1000} s)`);
  const rows = [["", "p50", "p99", "added p50", "added p99", "added p50, by round", `req/s @${shape.concurrency}`, `p99 @${shape.concurrency}`]];
  rows.push([baseline.name, ms(percentile(baseline.latency, 50)), ms(percentile(baseline.latency, 99)), "—", "—", "—", rate(median(baseline.perSecond)), ms(percentile(baseline.atConcurrency, 99))]);
  for (const gateway of [atomic, ...peers]) {
    const net = added(gateway, baseline);
    rows.push([
      gateway.name, ms(percentile(gateway.latency, 50)), ms(percentile(gateway.latency, 99)), ms(net.p50), ms(net.p99),
      `${round(net.p50Low, 2)}–${round(net.p50High, 2)} ms`, rate(net.perSecond), ms(percentile(gateway.atConcurrency, 99)),
    ]);
  }
  console.log(table(rows));
  console.log("   Atomic answers from its no-op engine and commits its record durably before answering; a peer's added latency includes its hop to the mock.");

  if (peers.length === 0) {
    console.log("\nno peer measured: nothing to compare Atomic with (npm run peers:install)");
    return;
  }
  const ours = added(atomic, baseline);
  const theirs = peers.map((peer) => ({ name: peer.name, ...added(peer, baseline) }));
  const fastest = (key: "p50" | "p99") => theirs.reduce((best, peer) => (peer[key] < best[key] ? peer : best));
  const busiest = theirs.reduce((best, peer) => (peer.perSecond > best.perSecond ? peer : best));
  const verdict = (met: boolean) => (met ? "met" : "not met");
  console.log(`\nAtomic ÷ the faster peer (goal: added latency ≤ 0.5 × at p50 and at p99, requests/s > 1 ×)`);
  for (const key of ["p50", "p99"] as const) {
    const peer = fastest(key);
    // A peer measured as adding nothing (noise at the baseline's level) leaves no meaningful ratio.
    const ratio = peer[key] > 0 ? ours[key] / peer[key] : Number.NaN;
    console.log(`   added ${key}   ${Number.isNaN(ratio) ? "n/a" : round(ratio, 2)}  (Atomic ${ms(ours[key])}, ${peer.name} ${ms(peer[key])}) — ${verdict(ratio <= 0.5)}`);
  }
  const ratio = ours.perSecond / busiest.perSecond;
  console.log(`   req/s       ${round(ratio, 2)}  (Atomic ${rate(ours.perSecond)}/s, ${busiest.name} ${rate(busiest.perSecond)}/s) — ${verdict(ratio > 1)}`);
}
