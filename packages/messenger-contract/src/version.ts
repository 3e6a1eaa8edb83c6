/** Version of the wire contract (TransportMessage, MessageIn, adapter interface). Bumped on breaking changes. */
export const SPECIFICATION_VERSION = 'v1' as const;
export type SpecificationVersion = typeof SPECIFICATION_VERSION;
