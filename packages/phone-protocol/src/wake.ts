// Building blocks for writing your own CommandBus (the server's SQL bus uses them); not needed to run the protocol.
export { WakeRegistry } from './command-bus.js';
