import type { Registry } from "prom-client";

/** A sample as prom-client reports it; a histogram's line has `le` (or nothing) in labels, its series' labels as shared. */
interface Sample {
  labels: object;
  sharedLabels?: object;
  value: number;
  metricName?: string;
}

/**
 * The Prometheus text exposition (format 0.0.4) of a registry, as prom-client's registry.metrics() writes it, with one
 * difference: the name and labels of each series are formatted once and reused while the series lives. prom-client
 * formats every label of every series again at each scrape (three regular expressions per value, a few arrays per
 * line), which came to about 40 ms of CPU for 10,000 series on the build machine (npm run bench:metrics), four times
 * the target. Values, types and collection stay prom-client's; only the lines are written here, through the
 * registry's public API.
 */
export class CachedExposition {
  // Keyed by the labels objects prom-client keeps per series: a series that is reset or removed takes its text along.
  private readonly prefixes = new WeakMap<object, string>();

  constructor(private readonly registry: Registry) {}

  async text(): Promise<string> {
    // Every metric at once, as registry.metrics() asks them: gauges fed by one source share its read (prometheus.ts).
    const metrics = await Promise.all(this.registry.getMetricsAsArray().map(({ name }) => this.registry.getSingleMetric(name)!.get()));
    // Appending to one string is what V8 does fastest here (ropes): a megabyte of lines costs no array of them.
    let text = "";
    for (const metric of metrics) {
      text += `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
      for (const sample of metric.values as Sample[]) text += `${this.prefix(metric.name, sample)} ${valueText(sample.value)}\n`;
    }
    return text;
  }

  /** `name{labels}` of a sample; cached for counters and gauges, whose labels objects live as long as their series. */
  private prefix(name: string, sample: Sample): string {
    const metricName = sample.metricName ?? name;
    // A histogram's lines are made afresh at each scrape: only the series' own labels (shared) are the same object.
    if (sample.sharedLabels !== undefined) {
      let shared = this.prefixes.get(sample.sharedLabels);
      if (shared === undefined) this.prefixes.set(sample.sharedLabels, (shared = formatLabels(sample.sharedLabels)));
      const own = formatLabels(sample.labels);
      const labels = own === "" ? shared : shared === "" ? own : `${shared},${own}`;
      return labels === "" ? metricName : `${metricName}{${labels}}`;
    }
    let prefix = this.prefixes.get(sample.labels);
    if (prefix === undefined) {
      const labels = formatLabels(sample.labels);
      this.prefixes.set(sample.labels, (prefix = labels === "" ? metricName : `${metricName}{${labels}}`));
    }
    return prefix;
  }
}

function formatLabels(labels: object): string {
  return Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`).join(",");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function valueText(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
