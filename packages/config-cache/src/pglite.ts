export {
  createPgliteInvalidationSource,
  type PGliteLike,
  type PgliteInvalidationSourceOptions,
} from './pglite-source.js';
