import { describeError, isRetryableError } from '../errors.js';
import type { DeadLetterHandler, DeliveryJob, JobContext, JobHandler } from './types.js';

export type AttemptOutcome = 'completed' | 'retry' | 'dead';

/** Shared by every queue engine: run one attempt and decide retry vs. dead letter the same way. */
export async function runAttempt(
  job: DeliveryJob,
  context: JobContext,
  maxAttempts: number,
  handler: JobHandler,
  onDeadLetter: DeadLetterHandler,
  now: () => number,
): Promise<{ outcome: AttemptOutcome; error?: unknown }> {
  try {
    await handler(job, context);
    return { outcome: 'completed' };
  } catch (error) {
    if (isRetryableError(error) && context.attempt < maxAttempts) return { outcome: 'retry', error };
    try {
      await onDeadLetter({ job, error: describeError(error), attempts: context.attempt, failedAt: new Date(now()) });
    } catch {
      // The handler owns reporting its own failures; a throwing dead-letter hook must not kill the worker.
    }
    return { outcome: 'dead', error };
  }
}
