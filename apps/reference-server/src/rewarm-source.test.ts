import type { InvalidationListener, InvalidationSource } from '@callbridge/config-cache';
import { describe, expect, it, vi } from 'vitest';
import { withRewarm } from './rewarm-source.js';

function capturingSource() {
  let seen: InvalidationListener | undefined;
  const source: InvalidationSource = {
    start: async (listener) => {
      seen = listener;
    },
    stop: async () => {},
  };
  return { source, listener: () => seen as InvalidationListener };
}

describe('withRewarm', () => {
  it('re-warms after the cache dropped the key, and hands the cache logger to the source', async () => {
    const { source, listener } = capturingSource();
    const onKey = vi.fn();
    const order: string[] = [];
    const logger = { warn: vi.fn() };
    await withRewarm(source, (key) => {
      order.push(`rewarm:${key}`);
      onKey(key);
    }).start({
      onInvalidate: (event) => order.push(`drop:${event.key}`),
      onResync: () => order.push('resync'),
      logger,
    });
    listener().onInvalidate({ key: '0367', payload: '0367' });
    listener().onResync();
    expect(order).toEqual(['drop:0367', 'rewarm:0367', 'resync']);
    listener().logger?.warn({ attempt: 1 }, 'listen failed');
    expect(logger.warn).toHaveBeenCalledWith({ attempt: 1 }, 'listen failed');
  });
});
