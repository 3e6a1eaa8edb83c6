import type { Clock } from './clock.js';
import type { CommandBus, PhoneCommand } from './command-bus.js';

/** A held long-poll as its owner sees it: the device it waits for and the owner's own record. */
export interface HeldPoll<T = unknown> {
  /** The device whose command the poll waits for; a newer poll for the same device replaces this one. */
  readonly deviceId: string;
  /** What the owner passed to `hold` (e.g. its HTTP response), handed back in `settle`. */
  readonly target: T;
}

/** Called exactly once per held poll: with the claimed command, or `undefined` (timeout, replacement, cancel). */
export type SettlePoll<T> = (poll: HeldPoll<T>, command: PhoneCommand | undefined) => void;

/**
 * One held poll: a plain record found by device id. Timer callbacks are module-level functions that get the
 * record as their argument, so holding a poll allocates no closure and no promise (10k held polls = 10k of these).
 */
class Waiter<T> implements HeldPoll<T> {
  done = false;
  claiming = false;
  again = false;
  timer: NodeJS.Timeout | undefined = undefined;
  retryTimer: NodeJS.Timeout | undefined = undefined;
  /** Only for buses without `watch` (third-party ports): the closure their `subscribe` returned. */
  unsubscribe: (() => void) | undefined = undefined;

  constructor(
    readonly hub: LongPollHub,
    readonly deviceId: string,
    /** Clock time after which a re-delivery is not worth waiting for. */
    readonly deadline: number,
    /** Mutable only so the promise form can wrap its resolver after the abort listener is known. */
    public target: T,
    readonly settle: SettlePoll<T>,
  ) {}
}

function expire(waiter: Waiter<unknown>): void {
  waiter.hub.finish(waiter, undefined);
}

function retry(waiter: Waiter<unknown>): void {
  waiter.retryTimer = undefined;
  void waiter.hub.attempt(waiter);
}

/**
 * Held long-polls of this process, at most one per device: a new poll for a device answers the previous one
 * (with "nothing", i.e. 204). Every exit path (command, timeout, replacement, cancel, close) clears the timer,
 * the wake-up subscription and the map entry.
 */
export class LongPollHub {
  private readonly waiters = new Map<string, Waiter<unknown>>();
  private readonly stopListening: () => void;
  private claiming = 0;
  /** One wake-up listener for every device (the bus passes the device id), not one closure per poll. */
  private readonly onWake = (deviceId: string): void => {
    const waiter = this.waiters.get(deviceId);
    if (waiter) void this.attempt(waiter);
  };

  constructor(
    private readonly bus: CommandBus,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    // A poll for the same device started on another instance replaces ours there too.
    this.stopListening =
      bus.onPollElsewhere?.((deviceId) => {
        const waiter = this.waiters.get(deviceId);
        if (waiter) this.finish(waiter, undefined);
      }) ?? (() => {});
  }

  /** Number of polls currently held. */
  get held(): number {
    return this.waiters.size;
  }

  /** Held polls whose claim is still at the command bus (a poll counts as held from the moment it arrives). */
  get claimsInFlight(): number {
    return this.claiming;
  }

  /**
   * Holds a poll for `waitMs` (> 0) and calls `settle` once with the claimed command or `undefined`.
   * Replaces (settles with `undefined`) a poll already held for the device. Returns the handle for {@link cancel}.
   */
  hold<T>(deviceId: string, waitMs: number, target: T, settle: SettlePoll<T>): HeldPoll<T> {
    this.cancelDevice(deviceId);
    this.bus.announcePoll?.(deviceId);
    const waiter = new Waiter(this, deviceId, this.clock.now() + waitMs, target, settle) as Waiter<unknown>;
    this.waiters.set(deviceId, waiter);
    // Subscribe before the first claim so an enqueue between the two cannot be missed.
    if (this.bus.watch && this.bus.unwatch) this.bus.watch(deviceId, this.onWake);
    else waiter.unsubscribe = this.bus.subscribe(deviceId, () => this.onWake(deviceId));
    waiter.timer = setTimeout(expire, waitMs, waiter);
    void this.attempt(waiter);
    return waiter as HeldPoll<T>;
  }

  /** The client went away: settles the poll with `undefined` unless it is already settled. */
  cancel(poll: HeldPoll): void {
    if (poll instanceof Waiter) this.finish(poll, undefined);
  }

  /** Promise form of {@link hold} (tests, embedders): `wait_seconds=0` is a plain claim. */
  wait(deviceId: string, waitMs: number, signal?: AbortSignal): Promise<PhoneCommand | undefined> {
    this.cancelDevice(deviceId);
    if (signal?.aborted) return Promise.resolve(undefined);
    // `wait_seconds=0` is a plain check: a zero timer would race the claim and answer 204 over a queued command.
    if (waitMs <= 0) return this.claimNow(deviceId, signal);
    return new Promise((resolve) => {
      const poll = this.hold(deviceId, waitMs, resolve, settleByResolving);
      if (!signal) return;
      const onAbort = (): void => this.cancel(poll);
      signal.addEventListener('abort', onAbort, { once: true });
      (poll as Waiter<typeof resolve>).target = (command) => {
        signal.removeEventListener('abort', onAbort);
        resolve(command);
      };
    });
  }

  /** @internal Timer and wake-up entry point: claims for the poll, once at a time, again if woken meanwhile. */
  async attempt(waiter: Waiter<unknown>): Promise<void> {
    if (waiter.done) return;
    if (waiter.claiming) {
      waiter.again = true;
      return;
    }
    waiter.claiming = true;
    this.claiming++;
    try {
      do {
        waiter.again = false;
        const result = await this.bus.claim(waiter.deviceId);
        if (result.command) {
          // finish() releases the command again if the poll ended while the claim was in flight.
          this.finish(waiter, result.command);
          return;
        }
        if (result.retryAt !== undefined && result.retryAt < waiter.deadline && !waiter.done) {
          // An unacknowledged command becomes re-deliverable while we hold the poll: look again then.
          clearTimeout(waiter.retryTimer);
          waiter.retryTimer = setTimeout(retry, Math.max(0, result.retryAt - this.clock.now()) + 1, waiter);
        }
      } while (waiter.again && !waiter.done);
    } catch (err) {
      // Storage trouble: keep holding; the timeout answers 204 and the device polls again.
      this.onError(err);
    } finally {
      waiter.claiming = false;
      this.claiming--;
    }
  }

  /** @internal Settles a poll once; a command claimed for an already settled poll goes back to the queue. */
  finish(waiter: Waiter<unknown>, command: PhoneCommand | undefined): void {
    if (waiter.done) {
      if (command) void this.bus.release(command.id).catch(this.onError);
      return;
    }
    waiter.done = true;
    clearTimeout(waiter.timer);
    if (waiter.retryTimer) clearTimeout(waiter.retryTimer);
    if (waiter.unsubscribe) waiter.unsubscribe();
    else this.bus.unwatch?.(waiter.deviceId, this.onWake);
    if (this.waiters.get(waiter.deviceId) === waiter) this.waiters.delete(waiter.deviceId);
    waiter.settle(waiter, command);
  }

  /** Settles the poll held for the device, if any (a new poll for it arrived). */
  cancelDevice(deviceId: string): void {
    const previous = this.waiters.get(deviceId);
    if (previous) this.finish(previous, undefined);
  }

  /** Claims without waiting (`wait_seconds=0`); `undefined` when nothing is queued or storage failed. */
  async claimNow(deviceId: string, signal?: AbortSignal): Promise<PhoneCommand | undefined> {
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
    for (const waiter of [...this.waiters.values()]) this.finish(waiter, undefined);
  }
}

function settleByResolving(
  poll: HeldPoll<(command: PhoneCommand | undefined) => void>,
  command: PhoneCommand | undefined,
): void {
  poll.target(command);
}
