import {
  registerAvitoChatCacheSuite,
  registerAvitoTokenStoreSuite,
  registerProviderTokenStoreSuite,
  registerTenantKeyStoreSuite,
} from '@callbridge/messenger-contract/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SqlAvitoChatCache,
  SqlAvitoTokenStore,
  SqlProviderTokenStore,
  SqlTenantKeyStore,
} from '../src/messenger/store.js';
import { createSecretBox } from '../src/secret-box.js';
import { sqlBackends, useSqlStorage } from './support/sql-backends.js';

// messenger-contract's store port suites against the server's SQL stores, on PGlite and PostgreSQL.

const api = { describe, it, expect, afterEach };
const secrets = createSecretBox(Buffer.alloc(32, 5));

describe.each(sqlBackends())('messenger SQL stores on $name', (backend) => {
  const storage = useSqlStorage(backend);
  const name = `SQL (${backend.name})`;
  registerTenantKeyStoreSuite(api, name, () => new SqlTenantKeyStore(storage().sql, secrets));
  registerProviderTokenStoreSuite(api, name, () => new SqlProviderTokenStore(storage().sql, secrets));
  registerAvitoTokenStoreSuite(api, name, () => new SqlAvitoTokenStore(storage().sql, secrets));
  registerAvitoChatCacheSuite(api, name, () => new SqlAvitoChatCache(storage().sql));
});
