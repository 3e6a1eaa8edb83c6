import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'callbridge_' });
  const httpRequests = new Counter({
    name: 'callbridge_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'callbridge_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'callbridge_auth_failures_total',
    help: 'Refused admin requests',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const cacheEntries = new Gauge({
    name: 'callbridge_config_cache_entries',
    help: 'Enterprises in the RetailCRM config cache',
    registers: [registry],
  });
  const escapedErrors = new Counter({
    name: 'callbridge_escaped_errors_total',
    help: 'Errors that escaped every handler (logged; the process stays up)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, authFailures, cacheEntries, escapedErrors };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `http_requests_total` for one method and route, one child per status created on first use: the hot routes count
 * without a label lookup per request.
 */
export function requestCounter(metrics: Metrics, method: string, route: string): (status: number) => { inc(): void } {
  const byStatus = new Map<number, { inc(): void }>();
  return (status) => {
    let counter = byStatus.get(status);
    if (!counter) {
      counter = metrics.httpRequests.labels({ method, route, status: String(status) });
      byStatus.set(status, counter);
    }
    return counter;
  };
}
