// ESM side of the runtime checks: `node runtime.mjs <entry> [forbidden peers...]` imports one public entry and
// fails if it exports nothing. With forbidden peers, forbid-peers.mjs makes loading any of them throw.
import { register } from 'node:module';

const [entry, ...forbidden] = process.argv.slice(2);
process.env.FORBIDDEN_PEERS = forbidden.join(',');
register('./forbid-peers.mjs', import.meta.url);
const exported = await import(entry);
const names = Object.keys(exported).filter((name) => name !== 'default');
if (names.length === 0) throw new Error(`${entry}: ESM import exports nothing`);
console.log(
  `esm  ${entry}: ${names.length} exports${forbidden.length ? `, none of ${forbidden.join(', ')} loaded` : ''}`,
);
