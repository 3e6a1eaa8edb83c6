import type { InvalidationEvent, InvalidationListener, InvalidationSource } from './types.js';

/** An invalidation source driven by hand: the in-memory implementation of the port, for tests and single-process apps. */
export interface ManualInvalidationSource extends InvalidationSource {
  /** Delivers an invalidation (`key` undefined = everything) to the started listener. */
  emit(event: InvalidationEvent): void;
  /** Simulates a reconnect after missed notifications. */
  resync(): void;
  /** Reports the connection going up or down to the started listener. */
  setConnected(connected: boolean): void;
  /** Whether a listener is started. */
  readonly running: boolean;
}

/** A manual invalidation source; nothing is delivered before `start` or after `stop`. */
export function createManualInvalidationSource(): ManualInvalidationSource {
  let listener: InvalidationListener | undefined;
  return {
    async start(next) {
      listener = next;
      listener.onConnectionChange?.(true);
    },
    async stop() {
      const current = listener;
      listener = undefined;
      current?.onConnectionChange?.(false);
    },
    emit(event) {
      listener?.onInvalidate(event);
    },
    resync() {
      listener?.onResync();
    },
    setConnected(connected) {
      listener?.onConnectionChange?.(connected);
    },
    get running() {
      return listener !== undefined;
    },
  };
}
