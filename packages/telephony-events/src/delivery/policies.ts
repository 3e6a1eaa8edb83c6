import {
  BrokenCircuitError,
  type BulkheadPolicy,
  BulkheadRejectedError,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleWhen,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import { backoffDelay } from '../backoff.js';
import { isRetryableError } from '../errors.js';
import { type Clock, systemClock } from '../ports.js';
import { createKeyedRateLimiter, type KeyedRateLimiter } from './rate-limiter.js';

/** Tuning of {@link createDeliveryPolicies}; every field has a default. */
export interface DeliveryPolicyOptions {
  /** Hard timeout of one CRM call (default 2500 ms). */
  timeoutMs?: number;
  /** Retries after the first try of one CRM call (default 2). */
  retries?: number;
  /** Exponential backoff with equal jitter: delay n = rand(½, 1) × min(maxMs, initialMs × 2^(n−1)). */
  backoff?: {
    /** Base delay before the first retry, ms (default 200). */
    initialMs?: number;
    /** Cap of the un-jittered delay, ms (default 2000). */
    maxMs?: number;
  };
  /** Per enterprise+CRM: open after N consecutive failed calls, try one call again after `halfOpenAfterMs`. */
  breaker?: {
    /** Retryable failures in a row that open the breaker (default 5); a non-retryable error (e.g. a 400) does not count. */
    consecutiveFailures?: number;
    /** How long an open breaker refuses calls before letting one through, ms (default 30 000). */
    halfOpenAfterMs?: number;
  };
  /** Per enterprise: CRM calls in flight and waiting (default 4 and 100). */
  bulkhead?: {
    /** CRM calls of one enterprise running at once (default 4). */
    perEnterprise?: number;
    /** Calls of one enterprise waiting for a slot (default 100); beyond it a call fails with `bulkhead_full`. */
    queue?: number;
  };
  /** Per enterprise token bucket (default 10/s, RetailCRM's per-key limit, burst 1: paced), or false. */
  rateLimit?:
    | {
        /** Sustained calls per second per enterprise (default 10). */
        perSecond?: number;
        /** Calls allowed at once after a quiet spell (default 1: evenly paced; see `RateLimiterOptions.burst`). */
        burst?: number;
      }
    | false;
  /** Source of the backoff jitter, in [0, 1) (default `Math.random`; fixed in tests). */
  random?: () => number;
  /** Time source of attempt durations and the rate limiter (default {@link systemClock}). */
  clock?: Clock;
  /** How the rate limiter waits, ms (default a real timer; tests pass one driven by their clock). */
  sleep?: (ms: number) => Promise<void>;
}

/** What one attempt of a CRM call gave, as the `observe` hook of {@link DeliveryPolicies.execute} sees it. */
export type AttemptResult<T> =
  | {
      /** The CRM answered. */
      status: 'success';
      /** The call's result. */
      value: T;
      /** How long the attempt took, ms (rate-limit wait excluded). */
      durationMs: number;
    }
  | {
      /** The attempt failed or timed out. */
      status: 'error';
      /** What it threw (a timeout is cockatiel's `TaskCancelledError`). */
      error: unknown;
      /** How long the attempt took, ms (rate-limit wait excluded). */
      durationMs: number;
    };

/** State of the circuit breaker of one enterprise+CRM (cockatiel's states; `closed` = calls flow). */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Resilience policies around CRM calls, keyed by enterprise (and by enterprise+CRM for the breaker). */
export interface DeliveryPolicies {
  /** Runs one CRM call under bulkhead -> retry -> breaker -> rate limit -> timeout. */
  execute<T>(
    target: { enterpriseNumber: string; crm: string },
    fn: (signal: AbortSignal) => Promise<T>,
    /** Called after every single attempt (success, error or timeout), e.g. to write an integration log. */
    observe?: (outcome: AttemptResult<T>) => void | Promise<void>,
    /** Per-call override: `retries: 0` for a caller that retries durably itself (an outbox with its own backoff). */
    call?: { retries?: number },
  ): Promise<T>;
  /** The breaker state of one enterprise+CRM; `closed` for one that never made a call. */
  breakerState(target: { enterpriseNumber: string; crm: string }): BreakerState;
}

/** A 503/429 "over the per-key limit" answer (retailcrm-client's `rate_limited`, or a bare HTTP status). */
function isRateLimitAnswer(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown } | null;
  return e?.code === 'rate_limited' || e?.status === 429;
}

const stateName: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** cockatiel policies keyed per enterprise (bulkhead, rate) and per enterprise+CRM (breaker). */
export function createDeliveryPolicies(options: DeliveryPolicyOptions = {}): DeliveryPolicies {
  const timeoutMs = options.timeoutMs ?? 2500;
  const retries = options.retries ?? 2;
  const initialMs = options.backoff?.initialMs ?? 200;
  const maxMs = options.backoff?.maxMs ?? 2000;
  const random = options.random ?? Math.random;
  const threshold = options.breaker?.consecutiveFailures ?? 5;
  const halfOpenAfter = options.breaker?.halfOpenAfterMs ?? 30_000;
  const now = () => (options.clock ?? systemClock).now();
  const perEnterprise = options.bulkhead?.perEnterprise ?? 4;
  const bulkheadQueue = options.bulkhead?.queue ?? 100;
  const limiter: KeyedRateLimiter | undefined =
    options.rateLimit === false
      ? undefined
      : createKeyedRateLimiter({
          ...options.rateLimit,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.sleep ? { sleep: options.sleep } : {}),
        });

  const backoff = new DelegateBackoff((context: IRetryBackoffContext<unknown>) =>
    backoffDelay(context.attempt, { initialMs, maxMs, random }),
  );
  // An open breaker or a full bulkhead is not retried here: the queue retries the job later.
  const retryable = handleWhen(
    (error) =>
      !(error instanceof BrokenCircuitError) && !(error instanceof BulkheadRejectedError) && isRetryableError(error),
  );
  const retryPolicies = new Map<number, RetryPolicy>();
  const retryPolicyFor = (maxAttempts: number) => {
    let policy = retryPolicies.get(maxAttempts);
    if (!policy) {
      policy = retry(retryable, { maxAttempts, backoff });
      retryPolicies.set(maxAttempts, policy);
    }
    return policy;
  };
  // Not aborted on return: the call has settled by then (nothing to cancel), and an abort without a reason builds a
  // DOMException per call (~3 % of the event loop at 600 calls/s).
  const timeoutPolicy = timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const bulkheads = new Map<string, BulkheadPolicy>();

  const breakerFor = (key: string) => {
    let policy = breakers.get(key);
    if (!policy) {
      // Only failures that say "the CRM is unwell" count; a 400 for one bad event must not pause the tenant, and a
      // rate-limit answer (the request was not processed; the limiter paces the next ones) is no outage either.
      policy = circuitBreaker(
        handleWhen((error) => isRetryableError(error) && !isRateLimitAnswer(error)),
        {
          halfOpenAfter: halfOpenAfter,
          breaker: new ConsecutiveBreaker(threshold),
        },
      );
      breakers.set(key, policy);
    }
    return policy;
  };
  const bulkheadFor = (enterprise: string) => {
    let policy = bulkheads.get(enterprise);
    if (!policy) {
      policy = bulkhead(perEnterprise, bulkheadQueue);
      bulkheads.set(enterprise, policy);
    }
    return policy;
  };

  return {
    execute(target, fn, observe, call) {
      const breaker = breakerFor(`${target.enterpriseNumber}|${target.crm}`);
      return bulkheadFor(target.enterpriseNumber).execute(() =>
        retryPolicyFor(call?.retries ?? retries).execute(() =>
          breaker.execute(async () => {
            await limiter?.acquire(target.enterpriseNumber);
            const startedAt = now();
            try {
              const value = await timeoutPolicy.execute(({ signal }) => fn(signal));
              await observe?.({ status: 'success', value, durationMs: now() - startedAt });
              return value;
            } catch (error) {
              await observe?.({ status: 'error', error, durationMs: now() - startedAt });
              throw error;
            }
          }),
        ),
      );
    },
    breakerState(target) {
      const policy = breakers.get(`${target.enterpriseNumber}|${target.crm}`);
      return policy ? stateName[policy.state] : 'closed';
    },
  };
}
