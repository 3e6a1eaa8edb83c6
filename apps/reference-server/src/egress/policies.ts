import {
  type BreakerState,
  createDeliveryPolicies,
  type DeliveryPolicies,
  type DeliveryPolicyOptions,
} from '@callbridge/telephony-events';

/** Delivery policies that also remember every account they called, so `/stats` can list each breaker. */
export interface AccountPolicies extends DeliveryPolicies {
  /** `enterprise:crm` -> breaker state, for every target this process has called. */
  breakers(): Record<string, BreakerState>;
}

/**
 * The one set of policies in front of RetailCRM, shared by PBX events and phone call results: per account a
 * breaker, a bulkhead and a token bucket, per call a timeout and a few quick retries. These are the only
 * in-call retry layer (the delivery client makes a single attempt); the queue and the phone outbox retry later.
 */
export function createAccountPolicies(options: DeliveryPolicyOptions = {}): AccountPolicies {
  const base = createDeliveryPolicies(options);
  const targets = new Map<string, { enterpriseNumber: string; crm: string }>();
  return {
    execute(target, fn, observe, call) {
      targets.set(`${target.enterpriseNumber}:${target.crm}`, target);
      return base.execute(target, fn, observe, call);
    },
    breakerState: (target) => base.breakerState(target),
    breakers: () => Object.fromEntries([...targets].map(([key, target]) => [key, base.breakerState(target)])),
  };
}
