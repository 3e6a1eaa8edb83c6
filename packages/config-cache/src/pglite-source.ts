import { defaultKeyFromPayload } from './key-from-payload.js';
import type { InvalidationListener, InvalidationSource } from './types.js';

/** The part of a PGlite instance the source uses (structural, so `@electric-sql/pglite` stays an optional peer). */
export interface PGliteLike {
  /** Subscribes to `channel`; resolves to the unsubscribe function. */
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Options of {@link createPgliteInvalidationSource}. */
export interface PgliteInvalidationSourceOptions {
  /** The PGlite instance (a `PGlite` from `@electric-sql/pglite`). */
  db: PGliteLike;
  /** The NOTIFY channel; PGlite folds it to lowercase like an unquoted identifier, so use a lowercase name. */
  channel: string;
  /** Payload -> key; `undefined` invalidates everything. Default: {@link defaultKeyFromPayload}. */
  keyFromPayload?: (payload: string) => string | undefined;
}

/**
 * PGlite `listen()` for the embedded default. PGlite runs in-process, so there is no connection
 * to lose: the source reports connected on start and never needs a resync.
 */
export function createPgliteInvalidationSource(options: PgliteInvalidationSourceOptions): InvalidationSource {
  const keyFromPayload = options.keyFromPayload ?? defaultKeyFromPayload;
  let unsubscribe: (() => Promise<void>) | undefined;
  let listener: InvalidationListener | undefined;

  return {
    async start(next) {
      if (unsubscribe) return;
      listener = next;
      unsubscribe = await options.db.listen(options.channel, (payload) => {
        const text = payload ?? '';
        listener?.onInvalidate({ key: keyFromPayload(text), payload: text });
      });
      listener.onConnectionChange?.(true);
    },
    async stop() {
      const stopListening = unsubscribe;
      const current = listener;
      unsubscribe = undefined;
      listener = undefined;
      if (!stopListening) return;
      await stopListening();
      current?.onConnectionChange?.(false);
    },
  };
}
