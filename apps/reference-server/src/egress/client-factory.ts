import { createRetailCrmClient, type RetailCrmClient } from '@callbridge/retailcrm-client';

/** How a RetailCRM client is made; tests inject one over msw or a fake server. */
export interface RetailCrmClientOptions {
  url: string;
  apiKey: string;
  /**
   * Set on the delivery path (events, call uploads, smart redirect): one HTTP attempt bounded by `timeoutMs`, no
   * client-side retry or pacing, because the egress policies own both (see `./policies.ts`). Absent for operator
   * requests (test connection, registration), which keep the client's own retry and pacing.
   */
  delivery?: {
    timeoutMs: number;
    /**
     * Keep the client's own pacing (RetailCRM's per-key rate) for calls that do not run under the egress policies
     * (smart redirect's manager lookup).
     */
    paced?: boolean;
  };
}

export type RetailCrmClientFactory = (options: RetailCrmClientOptions) => RetailCrmClient;

/** Operator requests: 10 s and the client's retries; delivery: exactly the budget the policies give one call. */
export const defaultClientFactory: RetailCrmClientFactory = ({ url, apiKey, delivery }) =>
  delivery
    ? createRetailCrmClient({
        url,
        apiKey,
        timeoutMs: delivery.timeoutMs,
        retry: false,
        ...(delivery.paced ? {} : { rateLimit: false as const }),
      })
    : createRetailCrmClient({ url, apiKey, timeoutMs: 10_000 });
