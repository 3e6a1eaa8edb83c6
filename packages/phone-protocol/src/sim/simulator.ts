import { sleep } from '../backoff.js';
import { PhoneClient } from '../client.js';
import { PhoneAuthError } from '../errors.js';
import type { CallStatus } from '../schemas.js';
import { percentile } from './stats.js';

/** Settings of {@link runSimulation}. */
export interface SimulationOptions {
  /** The server to load. */
  baseUrl: string;
  /** Number of simulated devices (default 10). */
  devices?: number;
  /** Account used by every device; `{i}` is replaced with the device index (e.g. `operator{i}`). */
  username: string;
  /** Password of that account. */
  password: string;
  /** Stop after this many seconds (default: until `signal` aborts). */
  durationSeconds?: number;
  /** `wait_seconds` of each long-poll (default 25). */
  waitSeconds?: number;
  /** Simulated call time before the result is reported (default 0). */
  answerDelayMs?: number;
  /** Heartbeat every N polls (default 10). */
  heartbeatEveryPolls?: number;
  /** Flush telemetry every N commands (default 5). */
  telemetryEveryCommands?: number;
  /** Device ids are `<prefix>-<index>` (default `sim-<start time in base 36>`). */
  deviceIdPrefix?: string;
  /** Called every `progressIntervalMs` and at the end. */
  onProgress?: (summary: SimulationSummary) => void;
  /** How often `onProgress` runs (default 1000 ms). */
  progressIntervalMs?: number;
  /** Called with every error a device meets (counted in `errors`); `device` is its 1-based index. */
  onError?: (error: unknown, device: number) => void;
  /** Stops the simulation. */
  signal?: AbortSignal;
  /** [0, 1) source for jitter and random results. */
  random?: () => number;
}

/** Totals of a simulation so far (every device's client metrics summed). */
export interface SimulationSummary {
  /** Devices started. */
  devices: number;
  /** Devices that logged in and registered. */
  devicesOnline: number;
  /** Long-polls sent. */
  polls: number;
  /** Commands received. */
  commands: number;
  /** Call results sent. */
  results: number;
  /** Requests answered with 429. */
  rateLimited: number;
  /** Token refreshes. */
  refreshes: number;
  /** Heartbeats sent. */
  heartbeats: number;
  /** Telemetry batches flushed. */
  telemetryBatches: number;
  /** Errors met (see `onError`). */
  errors: number;
  /** Enqueue -> device latency from the command's `enqueued_at` (ms). */
  latencyMs: {
    /** Median. */
    p50: number;
    /** 90th percentile. */
    p90: number;
    /** 99th percentile. */
    p99: number;
    /** The slowest command. */
    max: number;
  };
  /** Message of the latest error. */
  lastError?: string;
  /** Time since the start, in ms. */
  elapsedMs: number;
}

const STATUSES: CallStatus[] = ['connected', 'no_answer', 'rejected', 'no_action', 'unknown'];

/** Runs N simulated Android dialers against a server until the duration elapses or `signal` aborts. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const count = options.devices ?? 10;
  const random = options.random ?? Math.random;
  const prefix = options.deviceIdPrefix ?? `sim-${Date.now().toString(36)}`;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const durationTimer =
    options.durationSeconds === undefined ? undefined : setTimeout(onAbort, options.durationSeconds * 1000);
  const started = Date.now();
  const latencies: number[] = [];
  const clients: PhoneClient[] = [];
  const totals = { online: 0, results: 0, telemetryBatches: 0, errors: 0, lastError: undefined as string | undefined };

  const fail = (err: unknown, index: number) => {
    totals.errors += 1;
    totals.lastError = err instanceof Error ? err.message : String(err);
    options.onError?.(err, index);
  };

  const summary = (): SimulationSummary => {
    const sum = (key: 'polls' | 'commands' | 'rateLimited' | 'refreshes' | 'heartbeats' | 'errors') =>
      clients.reduce((n, c) => n + c.metrics[key], 0);
    return {
      devices: count,
      devicesOnline: totals.online,
      polls: sum('polls'),
      commands: sum('commands'),
      results: totals.results,
      rateLimited: sum('rateLimited'),
      refreshes: sum('refreshes'),
      heartbeats: sum('heartbeats'),
      telemetryBatches: totals.telemetryBatches,
      errors: totals.errors + sum('errors'),
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
      },
      ...(totals.lastError ? { lastError: totals.lastError } : {}),
      elapsedMs: Date.now() - started,
    };
  };

  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(summary()), options.progressIntervalMs ?? 1000)
    : undefined;

  const device = async (index: number): Promise<void> => {
    const client = new PhoneClient({
      baseUrl: options.baseUrl,
      deviceId: `${prefix}-${index}`,
      deviceName: `Simulated device ${index}`,
      appVersion: 'sim',
      heartbeatEveryPolls: options.heartbeatEveryPolls ?? 10,
      random,
    });
    clients.push(client);
    const username = options.username.replaceAll('{i}', String(index));
    try {
      await client.login(username, options.password);
      await client.registerDevice();
    } catch (err) {
      fail(err, index);
      return;
    }
    totals.online += 1;
    let handled = 0;
    // A result must survive a dead session (like the app's queued updates): log in again and resend it once.
    const resending = async <T>(send: () => Promise<T>): Promise<T> => {
      try {
        return await send();
      } catch (err) {
        if (!(err instanceof PhoneAuthError) || stop.signal.aborted) throw err;
        fail(err, index);
        await client.login(username, options.password);
        return send();
      }
    };
    while (!stop.signal.aborted) {
      try {
        const result = await client.pollOnce({ waitSeconds: options.waitSeconds ?? 25, signal: stop.signal });
        if (result?.status !== 'command') continue;
        const enqueuedAt = Number(result.command.enqueued_at);
        if (Number.isFinite(enqueuedAt) && enqueuedAt > 0) latencies.push(Date.now() - enqueuedAt);
        if (options.answerDelayMs) await new Promise((r) => setTimeout(r, options.answerDelayMs));
        const status = STATUSES[Math.floor(random() * STATUSES.length)] ?? 'unknown';
        const { command } = result;
        await resending(() =>
          client.sendCallResult({
            callRequestId: command.id,
            status,
            startedAt: new Date().toISOString(),
            durationSeconds: status === 'connected' ? 1 + Math.floor(random() * 120) : 0,
            actionSource: 'crm_ui',
            direction: 'outgoing',
            resolveMethod: 'simulator',
            attemptsCount: 1,
          }),
        );
        totals.results += 1;
        handled += 1;
        if (handled % (options.telemetryEveryCommands ?? 5) === 0) {
          await resending(() => client.flushTelemetry());
          totals.telemetryBatches += 1;
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        fail(err, index);
        if (err instanceof PhoneAuthError) {
          // Session lost (refresh token expired or revoked): log in again, like the app's re-login flow.
          const ok = await client.login(username, options.password).then(
            () => true,
            (loginError: unknown) => {
              fail(loginError, index);
              return false;
            },
          );
          if (!ok) await sleep(1000, stop.signal);
          continue;
        }
        // pollOnce already scheduled a backoff for poll errors; other failures wait a little here.
        if (client.backoffRemainingMs === 0) await sleep(1000, stop.signal);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: count }, (_, i) => device(i + 1)));
  } finally {
    clearTimeout(durationTimer);
    clearInterval(progress);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const final = summary();
  options.onProgress?.(final);
  return final;
}
