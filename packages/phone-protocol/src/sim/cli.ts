import { parseArgs } from 'node:util';
import { runSimulation, type SimulationSummary } from './simulator.js';

const USAGE = `Usage: callbridge-phone-sim --url <server> --user <username|operator{i}> --password <pw> [options]

Runs N simulated Android dialers: log in, register, long-poll, answer commands with results,
heartbeat and telemetry. Prints a live progress line (stderr) and a JSON summary (stdout).

  --url <url>            server base URL (e.g. http://127.0.0.1:3000)
  --user <name>          account for every device; {i} is replaced with the device index
  --password <pw>        password (or env CALLBRIDGE_SIM_PASSWORD)
  --devices <n>          number of devices (default 10)
  --duration <s>         stop after s seconds (default: until Ctrl-C)
  --wait <s>             wait_seconds of each poll (default 25)
  --answer-delay <ms>    simulated call duration before the result is sent (default 0)
  --heartbeat-every <n>  heartbeat every n polls (default 10)
  --quiet                no progress line
  --help`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  signal?: AbortSignal;
}

function line(s: SimulationSummary): string {
  const l = s.latencyMs;
  return (
    `[${(s.elapsedMs / 1000).toFixed(0)}s] devices ${s.devicesOnline}/${s.devices} polls ${s.polls} ` +
    `commands ${s.commands} results ${s.results} 429 ${s.rateLimited} errors ${s.errors} ` +
    `latency p50 ${l.p50}ms p99 ${l.p99}ms`
  );
}

/** Entry point of `callbridge-phone-sim`; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        devices: { type: 'string' },
        duration: { type: 'string' },
        wait: { type: 'string' },
        'answer-delay': { type: 'string' },
        'heartbeat-every': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const password = (values.password as string | undefined) ?? process.env.CALLBRIDGE_SIM_PASSWORD;
  if (!values.url || !values.user || !password) {
    io.err(`--url, --user and --password are required\n${USAGE}\n`);
    return 2;
  }
  const num = (key: string): number | undefined => {
    const raw = values[key];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} must be a non-negative number`);
    return n;
  };
  try {
    const devices = num('devices');
    const duration = num('duration');
    const wait = num('wait');
    const answerDelay = num('answer-delay');
    const heartbeatEvery = num('heartbeat-every');
    const summary = await runSimulation({
      baseUrl: values.url as string,
      username: values.user as string,
      password,
      ...(devices !== undefined ? { devices } : {}),
      ...(duration !== undefined ? { durationSeconds: duration } : {}),
      ...(wait !== undefined ? { waitSeconds: wait } : {}),
      ...(answerDelay !== undefined ? { answerDelayMs: answerDelay } : {}),
      ...(heartbeatEvery !== undefined ? { heartbeatEveryPolls: heartbeatEvery } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(values.quiet ? {} : { onProgress: (s: SimulationSummary) => io.err(`\r${line(s)}`) }),
    });
    if (!values.quiet) io.err('\n');
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
    return summary.devicesOnline === 0 ? 1 : 0;
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 2;
  }
}
