import { parseArgs } from 'node:util';
import { describeFailure } from './describe-failure.js';
import { runSimulation, type SimulationOptions, type SimulationSummary } from './simulator.js';

const USAGE = `Usage: callbridge-phone-sim --url <server> --user <username|operator{i}> --password <pw> [options]

Runs N simulated Android dialers: log in, register, long-poll, answer commands with results,
heartbeat and telemetry. Prints progress and failures (stderr) and a JSON summary (stdout).

  --url <url>             server base URL, http or https (e.g. http://127.0.0.1:3000)
  --user <name>           account for every device; {i} is replaced with the device index
  --password <pw>         password (or env CALLBRIDGE_SIM_PASSWORD)
  --devices <n>           number of devices, an integer >= 1 (default 10)
  --duration <s>          stop after s seconds (default: until Ctrl-C)
  --wait <s>              wait_seconds of each poll, an integer (default 25)
  --answer-delay <ms>     simulated call duration before the result is sent (default 0)
  --heartbeat-every <n>   heartbeat every n polls, an integer >= 1 (default 10)
  --progress-every <s>    seconds between progress lines (default 1 on a terminal, 10 otherwise)
  --quiet                 no progress lines
  --help

Exit codes: 0 finished with at least one device online, 1 no device came online, 2 bad arguments or the run failed.`;

/** Where the CLI writes, and what it is attached to. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  signal?: AbortSignal;
  /** Whether `err` is a terminal: the progress line is redrawn in place only then, else one line per interval. */
  isTTY?: boolean;
}

/** A command-line argument the user has to fix (exit code 2). */
class UsageError extends Error {}

function progressLine(s: SimulationSummary): string {
  const l = s.latencyMs;
  return (
    `[${(s.elapsedMs / 1000).toFixed(0)}s] devices ${s.devicesOnline}/${s.devices} polls ${s.polls} ` +
    `commands ${s.commands} results ${s.results} 429 ${s.rateLimited} errors ${s.errors} ` +
    `latency p50 ${l.p50}ms p99 ${l.p99}ms`
  );
}

/** Parses a numeric option; `integer` and `min` say what is accepted (the message repeats it). */
function numberOption(raw: string | undefined, name: string, rule: { integer: boolean; min: number; gt?: boolean }) {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  const ok = Number.isFinite(n) && (!rule.integer || Number.isInteger(n)) && (rule.gt ? n > rule.min : n >= rule.min);
  if (!ok) {
    const what = `${rule.integer ? 'an integer' : 'a number'} ${rule.gt ? '>' : '>='} ${rule.min}`;
    throw new UsageError(`--${name} must be ${what} (got "${raw}")`);
  }
  return n;
}

function urlOption(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:3000 (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must use http or https (got "${url.protocol}")`);
  }
  return raw.replace(/\/+$/, '');
}

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  devices: { type: 'string' },
  duration: { type: 'string' },
  wait: { type: 'string' },
  'answer-delay': { type: 'string' },
  'heartbeat-every': { type: 'string' },
  'progress-every': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Entry point of `callbridge-phone-sim`; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (message: string) => {
    io.err(`callbridge-phone-sim: ${message}\nRun callbridge-phone-sim --help for the options.\n`);
    return 2;
  };
  try {
    const { values } = parseArgs({ args: argv, options: OPTIONS });
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const password = values.password ?? process.env.CALLBRIDGE_SIM_PASSWORD;
    if (!values.url || !values.user || !password) {
      throw new UsageError(
        '--url, --user and --password are required (the password may come from CALLBRIDGE_SIM_PASSWORD)',
      );
    }
    const devices = numberOption(values.devices, 'devices', { integer: true, min: 1 });
    const duration = numberOption(values.duration, 'duration', { integer: false, min: 0, gt: true });
    const wait = numberOption(values.wait, 'wait', { integer: true, min: 0 });
    const answerDelay = numberOption(values['answer-delay'], 'answer-delay', { integer: false, min: 0 });
    const heartbeatEvery = numberOption(values['heartbeat-every'], 'heartbeat-every', { integer: true, min: 1 });
    const progressEvery = numberOption(values['progress-every'], 'progress-every', {
      integer: false,
      min: 0,
      gt: true,
    });
    const progressEveryMs = (progressEvery ?? (io.isTTY ? 1 : 10)) * 1000;
    const options: SimulationOptions = {
      baseUrl: urlOption(values.url),
      username: values.user,
      password,
      ...(devices !== undefined ? { devices } : {}),
      ...(duration !== undefined ? { durationSeconds: duration } : {}),
      ...(wait !== undefined ? { waitSeconds: wait } : {}),
      ...(answerDelay !== undefined ? { answerDelayMs: answerDelay } : {}),
      ...(heartbeatEvery !== undefined ? { heartbeatEveryPolls: heartbeatEvery } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    };
    return await simulate(options, values.quiet === true, progressEveryMs, io);
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** Runs the simulation with progress and failure reporting; returns the exit code. */
async function simulate(
  options: SimulationOptions,
  quiet: boolean,
  progressEveryMs: number,
  io: CliIo,
): Promise<number> {
  // On a terminal the progress line is redrawn in place; a log file gets one complete line per interval.
  let lineOpen = false;
  const closeLine = () => {
    if (lineOpen) io.err('\n');
    lineOpen = false;
  };
  const seen = new Set<string>();
  const context = { baseUrl: options.baseUrl, username: options.username };
  const summary = await runSimulation({
    ...options,
    progressIntervalMs: progressEveryMs,
    ...(quiet
      ? {}
      : {
          onProgress: (s: SimulationSummary) => {
            if (io.isTTY) {
              io.err(`\r${progressLine(s)}\x1b[K`);
              lineOpen = true;
            } else io.err(`${progressLine(s)}\n`);
          },
        }),
    // Each distinct failure once, in words (a thousand devices hitting a stopped server say it once).
    onError: (error, device) => {
      const text = describeFailure(error, { ...context, username: options.username.replaceAll('{i}', String(device)) });
      const key = text.replace(/"[^"]*"/, '');
      if (seen.has(key)) return;
      seen.add(key);
      closeLine();
      io.err(`callbridge-phone-sim: ${text}\n`);
    },
  });
  closeLine();
  io.out(`${JSON.stringify(summary, null, 2)}\n`);
  if (summary.devicesOnline === 0) {
    io.err(`callbridge-phone-sim: no device came online (${summary.errors} error(s), see above)\n`);
    return 1;
  }
  return 0;
}
