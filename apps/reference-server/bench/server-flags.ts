/**
 * Node flags of the server processes the benches start: as the operations guide starts the server
 * (`--max-semi-space-size=64`); `BENCH_NODE_ARGS=" "` for V8's defaults, or any other flags.
 */
export const SERVER_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean);
