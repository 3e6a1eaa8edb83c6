import type { Clock } from './clock.js';
import type { CommandBus, PhoneCommand } from './command-bus.js';

interface Waiter {
  finish(command: PhoneCommand | undefined): void;
}

/**
 * Held long-polls of this process, at most one per device: a new poll for a device answers the previous one
 * (it resolves with `undefined`, i.e. 204). Every exit path (command, timeout, replacement, abort, close)
 * clears the timer, the wake-up subscription and the map entry.
 */
export class LongPollHub {
  private readonly waiters = new Map<string, Waiter>();
  private readonly stopListening: () => void;

  constructor(
    private readonly bus: CommandBus,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    // A poll for the same device started on another instance replaces ours there too.
    this.stopListening =
      bus.onPollElsewhere?.((deviceId) => this.waiters.get(deviceId)?.finish(undefined)) ?? (() => {});
  }

  /** Number of polls currently held. */
  get held(): number {
    return this.waiters.size;
  }

  wait(deviceId: string, waitMs: number, signal?: AbortSignal): Promise<PhoneCommand | undefined> {
    this.waiters.get(deviceId)?.finish(undefined);
    if (signal?.aborted) return Promise.resolve(undefined);
    // `wait_seconds=0` is a plain check: a zero timer would race the claim and answer 204 over a queued command.
    if (waitMs <= 0) return this.claimNow(deviceId, signal);
    this.bus.announcePoll?.(deviceId);
    const bus = this.bus;
    return new Promise((resolve) => {
      let done = false;
      let claiming = false;
      let again = false;
      let retryTimer: NodeJS.Timeout | undefined;
      const deadline = this.clock.now() + waitMs;

      const finish = (command: PhoneCommand | undefined): void => {
        if (done) {
          if (command) void bus.release(command.id).catch(this.onError);
          return;
        }
        done = true;
        clearTimeout(timer);
        clearTimeout(retryTimer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        if (this.waiters.get(deviceId) === waiter) this.waiters.delete(deviceId);
        resolve(command);
      };
      const onAbort = (): void => finish(undefined);

      const attempt = async (): Promise<void> => {
        if (done) return;
        if (claiming) {
          again = true;
          return;
        }
        claiming = true;
        try {
          do {
            again = false;
            const result = await bus.claim(deviceId);
            if (result.command) {
              // finish() releases the command again if the poll ended while the claim was in flight.
              finish(result.command);
              return;
            }
            if (result.retryAt !== undefined && result.retryAt < deadline && !done) {
              // An unacknowledged command becomes re-deliverable while we hold the poll: look again then.
              clearTimeout(retryTimer);
              retryTimer = setTimeout(() => void attempt(), Math.max(0, result.retryAt - this.clock.now()) + 1);
            }
          } while (again && !done);
        } catch (err) {
          // Storage trouble: keep holding; the timeout answers 204 and the device polls again.
          this.onError(err);
        } finally {
          claiming = false;
        }
      };

      const waiter: Waiter = { finish };
      this.waiters.set(deviceId, waiter);
      // Subscribe before the first claim so an enqueue between the two cannot be missed.
      const unsubscribe = bus.subscribe(deviceId, () => void attempt());
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish(undefined), waitMs);
      void attempt();
    });
  }

  private async claimNow(deviceId: string, signal?: AbortSignal): Promise<PhoneCommand | undefined> {
    try {
      const { command } = await this.bus.claim(deviceId);
      if (command && signal?.aborted) {
        // The client left while we claimed: put it back for the next poll instead of waiting for the ack timeout.
        await this.bus.release(command.id);
        return undefined;
      }
      return command;
    } catch (err) {
      this.onError(err);
      return undefined;
    }
  }

  /** Answers every held poll with "nothing" (graceful shutdown). */
  closeAll(): void {
    this.stopListening();
    for (const waiter of [...this.waiters.values()]) waiter.finish(undefined);
  }
}
