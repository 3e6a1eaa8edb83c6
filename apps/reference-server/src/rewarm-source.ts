import type { InvalidationSource } from '@callbridge/config-cache';

/**
 * Wraps an invalidation source: after the cache drops a key, `onKey` runs (the server re-warms the
 * entry and remembers the key) so listings such as active-enterprises never lose an enterprise
 * between an invalidation and the next read.
 */
export function withRewarm(source: InvalidationSource, onKey: (key: string | undefined) => void): InvalidationSource {
  return {
    start(listener) {
      return source.start({
        onInvalidate(event) {
          listener.onInvalidate(event);
          onKey(event.key);
        },
        onResync: () => listener.onResync(),
        onConnectionChange: (connected) => listener.onConnectionChange?.(connected),
        // The source reports its retries through the cache's logger; dropping it would silence them.
        ...(listener.logger ? { logger: listener.logger } : {}),
      });
    },
    stop: () => source.stop(),
  };
}
