/**
 * The instance's Prometheus metrics: one prom-client registry per process (never prom-client's
 * global one), served by `GET /metrics`. Modules register their own metrics here through
 * `counter`, `gauge` and `histogram`, named `streamcast_<what>` with snake_case labels; every
 * sample also carries `server_id`. Registering a name twice returns the metric registered first.
 */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  Registry,
} from 'prom-client';

/** Settings of `Metrics`. */
export interface MetricsOptions {
  /** Added as the `server_id` label of every sample. */
  readonly serverId: string;
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC); default true. */
  readonly processMetrics?: boolean;
}

/** A metric's settings without `registers` (it always goes into this registry). */
type Config<T> = Omit<T, 'registers'>;

/** The registry of one instance and the way to add metrics to it. */
export class Metrics {
  /** The prom-client registry behind `/metrics`. */
  readonly registry = new Registry();

  constructor(options: MetricsOptions) {
    this.registry.setDefaultLabels({ server_id: options.serverId });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter (only ever goes up); `collect` may set it from elsewhere at scrape time. */
  counter<L extends string>(config: Config<CounterConfiguration<L>>): Counter<L> {
    return (
      this.existing<Counter<L>>(config.name) ??
      new Counter({ ...config, registers: [this.registry] })
    );
  }

  /** A gauge (goes up and down); `collect` may set it at scrape time (it may be async). */
  gauge<L extends string>(config: Config<GaugeConfiguration<L>>): Gauge<L> {
    return (
      this.existing<Gauge<L>>(config.name) ?? new Gauge({ ...config, registers: [this.registry] })
    );
  }

  /** A histogram; observe seconds for durations (`_seconds` names). */
  histogram<L extends string>(config: Config<HistogramConfiguration<L>>): Histogram<L> {
    return (
      this.existing<Histogram<L>>(config.name) ??
      new Histogram({ ...config, registers: [this.registry] })
    );
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async exposition(): Promise<{ readonly contentType: string; readonly text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private existing<M extends Metric<string>>(name: string): M | undefined {
    return this.registry.getSingleMetric(name) as M | undefined;
  }
}
