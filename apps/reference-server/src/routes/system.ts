import type { ConfigCache } from '@callbridge/config-cache';
import { Router } from 'express';
import type { EnterpriseRetailCrm } from '../egress/account-config.js';
import type { Metrics } from '../metrics.js';
import type { Storage } from '../storage/types.js';
import type { Telephony } from '../telephony.js';

export interface SystemDeps {
  storage: Storage;
  metrics: Metrics;
  startedAt: number;
  configCache?: ConfigCache<EnterpriseRetailCrm>;
  enablementCache?: ConfigCache<Record<string, boolean>>;
  isShuttingDown: () => boolean;
  telephony?: Telephony;
  readyTimeoutMs?: number;
  /** Phone API devices, heartbeats, telemetry and click-to-call uploads (src/phone). */
  phone?: { stats(): Promise<unknown> };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** Liveness, readiness, JSON stats and Prometheus metrics (unauthenticated, no secrets). */
export function createSystemRouter(deps: SystemDeps): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ ok: true, status: 'up', uptime_s: Math.round((Date.now() - deps.startedAt) / 1000) });
  });
  r.get('/ready', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ok = !deps.isShuttingDown();
    if (!ok) checks.server = 'shutting_down';
    try {
      await withTimeout(deps.storage.ping(), deps.readyTimeoutMs ?? 2000);
      checks.storage = 'ok';
    } catch (err) {
      ok = false;
      checks.storage = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    res.status(ok ? 200 : 503).json({ ok, checks });
  });
  r.get('/stats', async (_req, res) => {
    const requests = await deps.metrics.httpRequests.get();
    const byStatus: Record<string, number> = {};
    for (const v of requests.values) {
      const k = String(v.labels.status);
      byStatus[k] = (byStatus[k] ?? 0) + v.value;
    }
    let deadLetters: number | null = null;
    try {
      deadLetters = await deps.storage.countDeadLetters();
    } catch {
      deadLetters = null;
    }
    res.json({
      ok: true,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      storage: deps.storage.kind,
      requests: { by_status: byStatus },
      config_cache: deps.configCache?.metrics() ?? null,
      enablement_cache: deps.enablementCache?.metrics() ?? null,
      telephony: deps.telephony?.pipeline.stats() ?? null,
      // Per process: each instance has its own breakers and queue counters.
      delivery: deps.telephony?.state() ?? null,
      dead_letters: deadLetters,
      phone: deps.phone ? await deps.phone.stats().catch(() => null) : null,
    });
  });
  r.get('/metrics', async (_req, res) => {
    if (deps.configCache) deps.metrics.cacheEntries.set(deps.configCache.keys().length);
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return r;
}
