import type { DeadLetterStore } from '@callbridge/telephony-events';
import type { Storage } from '../storage/types.js';

/**
 * telephony-events' DeadLetterStore over the `dead_letters` table: one row per given-up job of `queue`, with its
 * enterprise, job id, event, last error message and attempts (the admin API lists and re-sends them).
 */
export function createSqlDeadLetterStore(storage: Pick<Storage, 'insertDeadLetter'>, queue: string): DeadLetterStore {
  return {
    async add(entry) {
      await storage.insertDeadLetter({
        queue,
        enterpriseNumber: entry.job.enterpriseNumber,
        jobId: entry.job.id,
        payload: entry.job.event,
        errorMessage: entry.error.message,
        attempts: entry.attempts,
      });
    },
  };
}
