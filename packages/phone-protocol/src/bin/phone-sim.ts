#!/usr/bin/env node
import { runCli } from '../sim/cli.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  signal: controller.signal,
  isTTY: process.stderr.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
