// CommonJS side of the runtime checks: `node runtime.cjs <entry> [forbidden peers...]` requires one public entry,
// fails if it exports nothing or if any forbidden (optional peer) package ended up in the require cache.
const { sep } = require('node:path');

const [entry, ...forbidden] = process.argv.slice(2);
const exported = require(entry);
const names = Object.keys(exported);
if (names.length === 0) throw new Error(`${entry}: require() exports nothing`);
const loaded = forbidden.filter((peer) =>
  Object.keys(require.cache).some((file) => file.includes(`${sep}node_modules${sep}${peer.replace('/', sep)}${sep}`)),
);
if (loaded.length > 0) throw new Error(`${entry}: require() loaded optional peers ${loaded.join(', ')}`);
console.log(
  `cjs  ${entry}: ${names.length} exports${forbidden.length ? `, none of ${forbidden.join(', ')} loaded` : ''}`,
);
