// In the consumer project `pg` is not installed: a cache with the PostgreSQL invalidation source must refuse to
// start with an "install pg" error instead of retrying forever.
import { createConfigCache } from '@callbridge/config-cache';
import { createPgListenInvalidationSource } from '@callbridge/config-cache/pg';

const cache = createConfigCache({
  loader: { load: async () => undefined, loadAll: async () => [] },
  invalidation: createPgListenInvalidationSource({ connectionString: 'postgres://127.0.0.1:9/db', channel: 'cfg' }),
});
const error = await cache.start().then(
  () => undefined,
  (caught) => caught,
);
await cache.close();
if (!(error instanceof Error) || !error.message.includes('npm install pg')) {
  throw new Error(`expected start() to fail with "install pg", got ${error}`);
}
console.log(`config-cache/pg without pg installed: ${error.message}`);
