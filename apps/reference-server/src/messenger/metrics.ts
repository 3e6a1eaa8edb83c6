import { Counter, type Registry } from 'prom-client';

/** Counters of the hub, named after the seed (`webhook_provider_total{status,channel}`), with the server prefix. */
export function createMessengerMetrics() {
  const webhooks = new Counter({
    name: 'callbridge_webhook_provider_total',
    help: 'Inbound provider webhooks by outcome (queued, duplicate, qr, ignored, unauthorized, invalid, unavailable)',
    labelNames: ['status', 'channel'] as const,
    registers: [],
  });
  const sends = new Counter({
    name: 'callbridge_messenger_send_total',
    help: 'POST /send by outcome (sent, duplicate, outbox_disabled, not_whitelisted, invalid, failed)',
    labelNames: ['status', 'channel'] as const,
    registers: [],
  });
  return {
    webhooks,
    sends,
    /** Adds the counters to an app's registry (served by GET /metrics). */
    register(registry: Registry) {
      for (const [name, metric] of [
        ['callbridge_webhook_provider_total', webhooks],
        ['callbridge_messenger_send_total', sends],
      ] as const) {
        if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
      }
    },
  };
}

export type MessengerMetrics = ReturnType<typeof createMessengerMetrics>;

/** Outcome label of a webhook answer. */
export function webhookOutcome(status: number, body: Record<string, unknown>): string {
  if (status === 401) return 'unauthorized';
  if (status === 422) return 'invalid';
  if (status >= 500) return 'unavailable';
  if (body.queued === true) return 'queued';
  if (body.duplicate === true) return 'duplicate';
  if (body.event === 'qr') return 'qr';
  return 'ignored';
}
