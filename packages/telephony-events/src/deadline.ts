/** Rejection of {@link withDeadline} when time ran out (internal: callers turn it into their own outcome). */
export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * `promise`, or a `DeadlineExceeded` rejection after `ms`; the timer is always cleared. The work itself is not
 * cancelled: use this where the caller must get an answer in time (the PBX, a live call) whatever the work does.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
