// The reference server is an application; these exports let tests and embedders run it in-process.
export { type AppContext, type AppDeps, createApp } from './app.js';
export { type AppConfig, ConfigError, loadConfig } from './config.js';
export { type RunningServer, type StartServerOptions, startServer } from './server.js';
export type { Storage } from './storage/types.js';
