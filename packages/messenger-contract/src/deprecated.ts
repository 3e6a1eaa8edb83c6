// Old names of the in-memory implementations, kept for one minor version (docs/conventions.md: `InMemory<Port>`).
import { InMemoryAvitoChatCache, InMemoryAvitoTokenStore } from './adapters/avito-stores.js';
import { InMemoryProviderTokenStore } from './auth.js';
import { InMemoryInboundDedup, type InMemoryInboundDedupOptions } from './dedup.js';
import { InMemoryTenantKeyStore } from './tenant-keys.js';

/** @deprecated Renamed to {@link InMemoryInboundDedup}. */
export const MemoryInboundDedup = InMemoryInboundDedup;
/** @deprecated Renamed to {@link InMemoryInboundDedup}. */
export type MemoryInboundDedup = InMemoryInboundDedup;
/** @deprecated Renamed to {@link InMemoryInboundDedupOptions}. */
export type MemoryInboundDedupOptions = InMemoryInboundDedupOptions;
/** @deprecated Renamed to {@link InMemoryTenantKeyStore}. */
export const MemoryTenantKeyStore = InMemoryTenantKeyStore;
/** @deprecated Renamed to {@link InMemoryTenantKeyStore}. */
export type MemoryTenantKeyStore = InMemoryTenantKeyStore;
/** @deprecated Renamed to {@link InMemoryProviderTokenStore}. */
export const MemoryProviderTokenStore = InMemoryProviderTokenStore;
/** @deprecated Renamed to {@link InMemoryProviderTokenStore}. */
export type MemoryProviderTokenStore = InMemoryProviderTokenStore;
/** @deprecated Renamed to {@link InMemoryAvitoTokenStore}. */
export const MemoryAvitoTokenStore = InMemoryAvitoTokenStore;
/** @deprecated Renamed to {@link InMemoryAvitoTokenStore}. */
export type MemoryAvitoTokenStore = InMemoryAvitoTokenStore;
/** @deprecated Renamed to {@link InMemoryAvitoChatCache}. */
export const MemoryAvitoChatCache = InMemoryAvitoChatCache;
/** @deprecated Renamed to {@link InMemoryAvitoChatCache}. */
export type MemoryAvitoChatCache = InMemoryAvitoChatCache;
