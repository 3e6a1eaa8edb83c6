import type { Clock } from './clock.js';

/** Scalar extras sent to the device next to `id` and `phone` (the client ignores what it does not know). */
export type CommandExtra = Record<string, string | number | boolean | null>;

/** A click-to-call command as the bus stores it. */
export interface PhoneCommand {
  /** Unique id; the device answers with it as `call_request_id`. */
  id: string;
  /** The device that must dial. */
  deviceId: string;
  /** The number to dial. */
  phone: string;
  /** When it was enqueued (epoch ms, the bus's clock). */
  enqueuedAt: number;
  /** How many times the command has been handed to a poll (1 on first delivery). */
  deliveries: number;
  /** Scalar extras sent to the device with the command. */
  extra?: CommandExtra;
}

/** What {@link CommandBus.enqueue} takes. */
export interface NewCommand {
  /** Unique id (enqueue is idempotent by it). */
  id: string;
  /** The device that must dial. */
  deviceId: string;
  /** The number to dial. */
  phone: string;
  /** Scalar extras sent to the device with the command. */
  extra?: CommandExtra;
}

/** What {@link CommandBus.claim} returns: a command, or when to look again. */
export interface ClaimResult {
  /** The claimed command (its delivery count already incremented). */
  command?: PhoneCommand;
  /** When nothing was claimable: the earliest moment an unacknowledged command becomes re-deliverable. */
  retryAt?: number;
}

/**
 * Port: per-device command queue with at-least-once delivery.
 * - `claim` hands a command to exactly one caller and starts its ack deadline;
 * - a claimed command not acknowledged before the deadline is claimable again (re-delivery);
 * - `ack` is idempotent; `release` puts a claimed command back at the head (its poll went away);
 * - `subscribe` is only a wake-up hint ("something may be claimable for this device"), never the data path.
 */
export interface CommandBus {
  /** Idempotent by `id`: enqueuing an id that is still known returns the stored command. */
  enqueue(command: NewCommand): Promise<PhoneCommand>;
  /** Hands the device's oldest claimable command to this caller only and starts its ack deadline. */
  claim(deviceId: string): Promise<ClaimResult>;
  /** The command if it is still queued or in flight. */
  get(commandId: string): Promise<PhoneCommand | undefined>;
  /** Removes the command for good; returns it the first time, `undefined` after (or if unknown). */
  ack(commandId: string): Promise<PhoneCommand | undefined>;
  /** Puts a claimed command back at the head of its device's queue and wakes the device's subscribers. */
  release(commandId: string): Promise<void>;
  /** Commands waiting or in flight for a device. */
  size(deviceId: string): Promise<number>;
  /** Calls `onWake` when something may be claimable for the device; returns the unsubscribe function. */
  subscribe(deviceId: string, onWake: () => void): () => void;
  /**
   * Optional allocation-free form of `subscribe`: `onWake` receives the device id, so a hub holding thousands of
   * polls registers one shared function; undone by `unwatch` with the same arguments (both built-in buses have it).
   */
  watch?(deviceId: string, onWake: WakeListener): void;
  /** Undoes one {@link CommandBus.watch} with the same arguments. */
  unwatch?(deviceId: string, onWake: WakeListener): void;
  /**
   * Optional, for buses shared by several instances: tell the others a poll for this device started here,
   * so their held poll for the same device answers 204 (one held poll per device across instances).
   */
  announcePoll?(deviceId: string): void;
  /** Optional counterpart of `announcePoll`: called for polls started on other instances. */
  onPollElsewhere?(listener: (deviceId: string) => void): () => void;
  /** Frees what the bus opened itself (a Redis subscriber); injected connections stay open. */
  close(): Promise<void>;
}

/** Settings every command bus takes. */
export interface CommandBusOptions {
  /** Time source of enqueue times and ack deadlines (give the protocol the same one). */
  clock: Clock;
  /** A delivered command not acknowledged within this time is delivered again (default 120 s). */
  ackTimeoutMs?: number;
  /** After this many unacknowledged deliveries the command is dropped and reported (default 5). */
  maxDeliveries?: number;
  /** Receives commands dropped after `maxDeliveries` (log it, store it, alert). */
  onDeadLetter?: (command: PhoneCommand) => void;
}

/** Default {@link CommandBusOptions.ackTimeoutMs}. */
export const DEFAULT_ACK_TIMEOUT_MS = 120_000;
/** Default {@link CommandBusOptions.maxDeliveries}. */
export const DEFAULT_MAX_DELIVERIES = 5;

/** Receives wake-ups; the device id is passed so one listener can serve every device. */
export type WakeListener = (deviceId: string) => void;

/**
 * Local wake-up fan-out shared by both implementations. A device with one listener (the usual case: one held
 * poll) stores the function itself, not a Set, so a held poll costs one map entry.
 */
export class WakeRegistry {
  private readonly listeners = new Map<string, WakeListener | WakeListener[]>();
  /** Registers `onWake` for the device; returns the function that removes this registration. */
  add(deviceId: string, onWake: WakeListener): () => void {
    this.addListener(deviceId, onWake);
    return () => this.remove(deviceId, onWake);
  }
  /** Same as {@link add} without allocating the unsubscribe closure. */
  addListener(deviceId: string, onWake: WakeListener): void {
    const current = this.listeners.get(deviceId);
    if (current === undefined) this.listeners.set(deviceId, onWake);
    else if (Array.isArray(current)) current.push(onWake);
    else this.listeners.set(deviceId, [current, onWake]);
  }
  /** Removes one registration of `onWake` for the device. */
  remove(deviceId: string, onWake: WakeListener): void {
    const current = this.listeners.get(deviceId);
    if (current === onWake) {
      this.listeners.delete(deviceId);
    } else if (Array.isArray(current)) {
      const index = current.indexOf(onWake);
      if (index >= 0) current.splice(index, 1);
      if (current.length === 1) this.listeners.set(deviceId, current[0]!);
      else if (current.length === 0) this.listeners.delete(deviceId);
    }
  }
  /** Calls every listener of the device with its id, synchronously; a device without listeners is ignored. */
  wake(deviceId: string): void {
    const current = this.listeners.get(deviceId);
    if (current === undefined) return;
    if (Array.isArray(current)) for (const listener of [...current]) listener(deviceId);
    else current(deviceId);
  }
  /** Wakes every subscriber (after wake-ups may have been lost, e.g. a pub/sub reconnect). */
  wakeAll(): void {
    for (const deviceId of [...this.listeners.keys()]) this.wake(deviceId);
  }
  /** Devices with at least one listener. */
  get size(): number {
    return this.listeners.size;
  }
}

/** When nothing is claimable: the earliest ack deadline among the device's commands in flight, if any. */
function retryAfter(flights: Map<string, number>): ClaimResult {
  let earliest = Number.POSITIVE_INFINITY;
  for (const deadline of flights.values()) if (deadline < earliest) earliest = deadline;
  return Number.isFinite(earliest) ? { retryAt: earliest } : {};
}

/** Single-process implementation (the embedded default). */
export class InMemoryCommandBus implements CommandBus {
  private readonly clock: Clock;
  private readonly ackTimeoutMs: number;
  private readonly maxDeliveries: number;
  private readonly onDeadLetter: (command: PhoneCommand) => void;
  private readonly commands = new Map<string, PhoneCommand>();
  private readonly queues = new Map<string, string[]>();
  /** deviceId -> (commandId -> ack deadline) */
  private readonly inFlight = new Map<string, Map<string, number>>();
  private readonly wakes = new WakeRegistry();

  constructor(options: CommandBusOptions) {
    this.clock = options.clock;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.onDeadLetter = options.onDeadLetter ?? (() => {});
  }

  async enqueue(input: NewCommand): Promise<PhoneCommand> {
    const existing = this.commands.get(input.id);
    if (existing) return { ...existing };
    const command: PhoneCommand = { ...input, enqueuedAt: this.clock.now(), deliveries: 0 };
    this.commands.set(command.id, command);
    const queue = this.queues.get(command.deviceId) ?? [];
    queue.push(command.id);
    this.queues.set(command.deviceId, queue);
    this.wakes.wake(command.deviceId);
    return { ...command };
  }

  async claim(deviceId: string): Promise<ClaimResult> {
    const now = this.clock.now();
    // Most claims find no command in flight (a held poll's first look): no map, no iterator for those.
    const flights = this.inFlight.get(deviceId);
    for (;;) {
      let id: string | undefined;
      let due = Number.POSITIVE_INFINITY;
      if (flights) {
        for (const [commandId, deadline] of flights) {
          if (deadline <= now && deadline < due) {
            id = commandId;
            due = deadline;
          }
        }
      }
      const command = id === undefined ? undefined : this.commands.get(id);
      if (id !== undefined && command && command.deliveries >= this.maxDeliveries) {
        flights?.delete(id);
        this.commands.delete(id);
        this.onDeadLetter({ ...command });
        continue;
      }
      const queued = command ? undefined : this.takeQueued(deviceId);
      const next = command ?? (queued === undefined ? undefined : this.commands.get(queued));
      if (!next) return flights ? retryAfter(flights) : {};
      next.deliveries += 1;
      // Created on first delivery only: an idle device polling every 25 s keeps no map behind.
      if (flights) flights.set(next.id, now + this.ackTimeoutMs);
      else this.inFlight.set(deviceId, new Map([[next.id, now + this.ackTimeoutMs]]));
      return { command: { ...next } };
    }
  }

  /** Next queued id; an emptied queue is dropped so idle devices keep no array behind. */
  private takeQueued(deviceId: string): string | undefined {
    const queue = this.queues.get(deviceId);
    const id = queue?.shift();
    if (queue?.length === 0) this.queues.delete(deviceId);
    return id;
  }

  async get(commandId: string): Promise<PhoneCommand | undefined> {
    const command = this.commands.get(commandId);
    return command ? { ...command } : undefined;
  }

  async ack(commandId: string): Promise<PhoneCommand | undefined> {
    const command = this.commands.get(commandId);
    if (!command) return undefined;
    this.commands.delete(commandId);
    const flights = this.inFlight.get(command.deviceId);
    if (flights?.delete(commandId) && flights.size === 0) this.inFlight.delete(command.deviceId);
    const queue = this.queues.get(command.deviceId);
    if (queue?.includes(commandId)) queue.splice(queue.indexOf(commandId), 1);
    return { ...command };
  }

  async release(commandId: string): Promise<void> {
    const command = this.commands.get(commandId);
    const flights = command && this.inFlight.get(command.deviceId);
    if (!command || !flights?.delete(commandId)) return;
    if (flights.size === 0) this.inFlight.delete(command.deviceId);
    const queue = this.queues.get(command.deviceId) ?? [];
    queue.unshift(commandId);
    this.queues.set(command.deviceId, queue);
    this.wakes.wake(command.deviceId);
  }

  async size(deviceId: string): Promise<number> {
    return (this.queues.get(deviceId)?.length ?? 0) + (this.inFlight.get(deviceId)?.size ?? 0);
  }

  subscribe(deviceId: string, onWake: () => void): () => void {
    return this.wakes.add(deviceId, onWake);
  }

  watch(deviceId: string, onWake: WakeListener): void {
    this.wakes.addListener(deviceId, onWake);
  }

  unwatch(deviceId: string, onWake: WakeListener): void {
    this.wakes.remove(deviceId, onWake);
  }

  /** Devices with at least one wake-up subscriber (held polls); for leak checks and stats. */
  get subscribedDevices(): number {
    return this.wakes.size;
  }

  async close(): Promise<void> {}
}
