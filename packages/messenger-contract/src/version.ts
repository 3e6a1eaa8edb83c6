/** Version of the wire contract (TransportMessage, MessageIn, adapter interface). Bumped on breaking changes. */
export const SPECIFICATION_VERSION = 'v1' as const;
/** Type of SPECIFICATION_VERSION: the contract version an adapter declares. */
export type SpecificationVersion = typeof SPECIFICATION_VERSION;
