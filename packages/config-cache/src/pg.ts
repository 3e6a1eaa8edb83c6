export {
  createPgListenInvalidationSource,
  type PgClientLike,
  type PgListenInvalidationSourceOptions,
  quoteIdentifier,
} from './pg-listen-source.js';
