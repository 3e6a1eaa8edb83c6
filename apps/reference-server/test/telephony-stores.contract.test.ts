import type { TelephonyEvent } from '@callbridge/telephony-events';
import { registerDeadLetterStoreSuite, registerIntegrationLogSuite } from '@callbridge/telephony-events/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlDeadLetterStore } from '../src/delivery/dead-letters.js';
import { createIntegrationLogWriter } from '../src/egress/integration-log.js';
import { DELIVERY_QUEUE } from '../src/telephony.js';
import { sqlBackends, useSqlStorage } from './support/sql-backends.js';

// telephony-events' store port suites against what the server wires into the pipeline: the `dead_letters` store and
// the integration-log writer's sink over `integration_logs`, read back the way the admin API reads them.

const api = { describe, it, expect, afterEach };
const silent = { error: () => undefined };
const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

describe.each(sqlBackends())('telephony SQL stores on $name', (backend) => {
  const storage = useSqlStorage(backend);
  const name = `SQL (${backend.name})`;

  registerDeadLetterStoreSuite(api, name, () => ({
    store: createSqlDeadLetterStore(storage(), DELIVERY_QUEUE),
    async entries(enterpriseNumber) {
      const rows = await storage().listEnterpriseDeadLetters({ enterpriseNumber, limit: 1000 });
      return rows
        .filter((row) => row.queue === DELIVERY_QUEUE)
        .reverse()
        .map((row) => ({
          jobId: String(row.jobId),
          enterpriseNumber: String(row.enterpriseNumber),
          event: row.payload as TelephonyEvent,
          errorMessage: String(row.errorMessage),
          attempts: row.attempts,
        }));
    },
  }));

  registerIntegrationLogSuite(api, name, () => {
    const writer = createIntegrationLogWriter(storage(), silent);
    return {
      sink: writer.sink,
      async records(enterpriseNumber) {
        await writer.close();
        const { items } = await storage().listIntegrationLogs({ enterpriseNumber, limit: 1000, offset: 0 });
        return items.reverse().map((row) => {
          const request = row.requestData as { operation: string; data: unknown };
          return {
            enterpriseNumber: row.enterpriseNumber,
            integrationType: row.integrationType,
            eventType: row.eventType,
            operation: request.operation,
            requestData: request.data,
            responseData: row.responseData,
            status: row.status,
            callUniqueId: orUndefined(row.callUniqueId),
            direction: orUndefined(row.direction),
            phone: orUndefined(row.phone),
            errorMessage: orUndefined(row.errorMessage),
            durationMs: Number(row.durationMs),
          };
        });
      },
      dispose: () => writer.close(),
    };
  });
});
