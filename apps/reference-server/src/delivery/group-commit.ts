/** Batches concurrent submissions into one commit: the write cost is paid per batch, not per item. */
export interface GroupCommitter<T, R> {
  /** Resolves with this item's result once its batch is committed; rejects if the batch failed. */
  submit(item: T): Promise<R>;
  /** Items submitted and not yet committed. */
  pending(): number;
  /** Commits what is pending and refuses nothing further (submit after close still commits). */
  close(): Promise<void>;
}

export interface GroupCommitOptions<T, R> {
  /** Commits one batch; returns one result per item, in order. */
  commit(items: T[]): Promise<R[]>;
  /** Items arriving within this window join the batch (default 1 ms); while a commit runs, arrivals wait for it. */
  windowMs?: number;
  /** Largest batch (default 500). */
  maxBatch?: number;
  /**
   * Batches committed at once (default 1). Above 1 a new batch starts while earlier ones are still being written,
   * so a database with several connections overlaps their round trips (its own group commit shares the WAL flush);
   * `commit` must then tolerate concurrent calls (lock rows in a fixed order).
   */
  maxInFlight?: number;
}

interface Waiter<T, R> {
  item: T;
  resolve(r: R): void;
  reject(e: unknown): void;
}

/** Group commit: one transaction for everything that arrived while the previous one was being written. */
export function createGroupCommitter<T, R>(options: GroupCommitOptions<T, R>): GroupCommitter<T, R> {
  const windowMs = options.windowMs ?? 1;
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  let queue: Waiter<T, R>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inFlight = new Set<Promise<void>>();
  let inFlightCount = 0;

  const busy = () => inFlight.size >= maxInFlight;
  const schedule = () => {
    if (timer || busy() || queue.length === 0) return;
    timer = setTimeout(flush, windowMs);
  };

  const flush = () => {
    timer = undefined;
    if (busy() || queue.length === 0) return;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    inFlightCount += batch.length;
    const done = (async () => {
      try {
        const results = await options.commit(batch.map((w) => w.item));
        for (const [i, w] of batch.entries()) w.resolve(results[i] as R);
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    })();
    inFlight.add(done);
    // Chained (always asynchronous): a commit that throws before its first await has still been added.
    void done.then(() => {
      inFlight.delete(done);
      inFlightCount -= batch.length;
      // What arrived during the commit is the next batch: no extra wait.
      if (queue.length > 0) flush();
    });
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (queue.length >= maxBatch && !busy()) {
          if (timer) clearTimeout(timer);
          flush();
        } else schedule();
      });
    },
    pending: () => queue.length + inFlightCount,
    async close() {
      while (queue.length > 0 || inFlight.size > 0) {
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
        }
        if (!busy()) flush();
        await Promise.race(inFlight);
      }
    },
  };
}
