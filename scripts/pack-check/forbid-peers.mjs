// Module hooks for the "root entries load no optional peer" check: resolving any package named in
// FORBIDDEN_PEERS (comma-separated) fails, so an import that needs one throws.
export async function resolve(specifier, context, nextResolve) {
  const forbidden = (process.env.FORBIDDEN_PEERS ?? '').split(',').filter(Boolean);
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  if (forbidden.includes(name)) throw new Error(`optional peer "${name}" was loaded`);
  return nextResolve(specifier, context);
}
