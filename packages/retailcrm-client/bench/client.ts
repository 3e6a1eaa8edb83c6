/**
 * Bench helper (child process): one RetailCRM client firing `calls` concurrent requests at the fake server.
 * argv: JSON `{url, apiKey, calls, endpoint: 'users'|'callEvent', limiter: 'pacing'|'sliding'|'redis', redisUrl?}`.
 */
import { Redis } from 'ioredis';
import { createPacingLimiter, createRetailCrmClient, type RateLimitOptions } from '../src/index.js';
import { createSlidingWindowLimiter } from '../src/rate-limiter.js';
import { createRedisRateLimiters } from '../src/redis/index.js';

interface Job {
  url: string;
  apiKey: string;
  calls: number;
  endpoint: 'users' | 'callEvent';
  limiter: 'pacing' | 'sliding' | 'redis' | 'pacing-only';
  redisUrl?: string;
}

async function main() {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const redis = job.redisUrl ? new Redis(job.redisUrl) : undefined;
  // A failed command already fails its call (counted below); the event would only print a second, unhandled copy.
  redis?.on('error', () => {});
  let rateLimit: RateLimitOptions = {};
  if (job.limiter === 'sliding') {
    // The 0.1.0 default: a sliding log of send times, bursts of `limit` at once.
    rateLimit = {
      limiter: createSlidingWindowLimiter({ limit: 10 }),
      telephonyLimiter: createSlidingWindowLimiter({ limit: 40 }),
    };
  } else if (job.limiter === 'pacing-only') {
    rateLimit = {
      limiter: createPacingLimiter({ limit: 10, answerGuard: false }),
      telephonyLimiter: createPacingLimiter({ limit: 40, answerGuard: false }),
    };
  } else if (job.limiter === 'redis' && redis) {
    rateLimit = createRedisRateLimiters({ redis, url: job.url, apiKey: job.apiKey });
  }
  const client = createRetailCrmClient({
    url: job.url,
    apiKey: job.apiKey,
    rateLimit,
    timeoutMs: 30_000,
    retry: { retries: 3 },
  });
  const call = (index: number) =>
    job.endpoint === 'users'
      ? client.users.get(1)
      : client.telephony.callEvent({ phone: `+7999${String(index).padStart(7, '0')}`, type: 'in', codes: ['150'] });
  // Wait for the parent's go, so several client processes start together. The listener stays: it keeps the IPC
  // channel (and so this process) alive while calls wait for a retry backoff (the client's timers are unref'd).
  await new Promise<void>((resolve) => process.on('message', () => resolve()));
  const results = await Promise.allSettled(Array.from({ length: job.calls }, (_, index) => call(index)));
  const failed = results.filter((result) => result.status === 'rejected').length;
  await redis?.quit();
  // Exit only once the message is out: an exit can overtake a pending IPC message.
  process.send?.({ type: 'done', failed }, undefined, {}, () => process.exit(0));
}

void main();
