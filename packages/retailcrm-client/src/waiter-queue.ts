/** FIFO of callers waiting for a limiter slot; a caller whose signal aborts leaves the queue at once. */
export interface WaiterQueue<T> {
  /** Joins the queue; rejects with the signal's reason if it aborts before being served. */
  wait(signal?: AbortSignal): Promise<T>;
  /** Serves the longest waiter; false when nobody is waiting. */
  serveNext(value: T): boolean;
  /** Rejects every waiter (e.g. the limiter's store failed). */
  failAll(reason: unknown): void;
  size(): number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

export function createWaiterQueue<T>(onJoin: () => void): WaiterQueue<T> {
  const queue: Waiter<T>[] = [];
  const take = () => {
    const waiter = queue.shift();
    waiter?.detach();
    return waiter;
  };
  return {
    wait(signal) {
      return new Promise<T>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason);
        };
        const waiter: Waiter<T> = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener('abort', onAbort),
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        onJoin();
      });
    },
    serveNext(value) {
      const waiter = take();
      waiter?.resolve(value);
      return waiter !== undefined;
    },
    failAll(reason) {
      for (let waiter = take(); waiter; waiter = take()) waiter.reject(reason);
    },
    size: () => queue.length,
  };
}
