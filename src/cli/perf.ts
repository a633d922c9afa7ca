/**
 * `weft perf run` (a load test, here or on agents) and `weft perf agent` (a
 * remote load generator). Exit codes of `run`: 0 done; 1 could not run (bad
 * flag, unreachable target); 3 the requested rate was not reached; 130
 * stopped by SIGINT (the partial result is still printed and written).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AGENT_DEFAULT_PORT } from '../perf/agent-protocol.js';
import { LOAD_PROTOCOLS, LoadOptionError, parseDuration, parseHeader, type LoadOptions, type LoadProtocol } from '../perf/options.js';
import { runLoadInteractively } from './load-run.js';
import { loadRunExitCode } from './perf-exit.js';
import { registerPerfManagementCommands } from './perf-manage.js';
import { nonNegativeInteger, positiveInteger, positiveNumber } from './flags.js';


interface RunFlags {
  url: string;
  rate?: number;
  max?: boolean;
  duration: string;
  warmup: string;
  connections: number;
  threads: number;
  method: string;
  header: string[];
  body?: string;
  bodySize?: number;
  protocol: LoadProtocol;
  timeout: string;
  agents?: string[];
  output?: string;
  progress: boolean;
}

/** commander turns an InvalidArgumentError from a parser into `error: option '--x' argument 'y' is invalid. reason`. */
function flagParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof LoadOptionError ? error.reason : error instanceof Error ? error.message : String(error));
    }
  };
}

/** A duration flag; `positive` for the ones a run cannot do with 0 (all but --warmup). */
const duration = (name: string, positive = true) =>
  flagParser((text) => {
    const ms = parseDuration(name, text);
    if (positive && ms < 1) throw new Error('must be at least 1ms');
    return text;
  });
const collectHeader = (text: string, all: string[]): string[] => {
  flagParser((t) => parseHeader('header', t))(text);
  return [...all, text];
};
const agentList = (text: string): string[] => text.split(',').map((a) => a.trim()).filter((a) => a !== '');

export function registerPerfCommand(program: Command): void {
  const perf = program.command('perf').description('performance management: load tests with SMP results');
  registerPerfManagementCommands(perf);
  perf
    .command('run')
    .description('run a load test: constant rate (open loop, corrected for coordinated omission) or --max (closed loop)')
    .requiredOption('--url <url>', 'target, http://host:port/path (for grpc: http://host:port/package.Service/Method)')
    .option('--rate <rps>', 'requests per second in total (open loop)', positiveNumber)
    .option('--max', 'as fast as possible: each connection sends when the previous answer arrives (closed loop)')
    .option('--duration <d>', 'measured duration: 30s, 500ms, 1m30s', duration('duration'), '30s')
    .option('--warmup <d>', 'load sent first and not recorded', duration('warmup', false), '0s')
    .option('--connections <n>', 'connections in total, one request in flight on each', positiveInteger, 32)
    .option('--threads <n>', 'worker threads (per agent with --agents)', positiveInteger, 1)
    .option('--method <m>', 'HTTP method', 'GET')
    .option('--header <name:value>', 'request header (repeatable)', collectHeader, [])
    .option('--body <file>', 'request body from a file (grpc: a serialized protobuf message)')
    .option('--body-size <n>', 'request body of N bytes', nonNegativeInteger)
    .addOption(new Option('--protocol <p>', 'protocol').choices(LOAD_PROTOCOLS).default('http1'))
    .option('--timeout <d>', 'a request unanswered this long is a timeout error', duration('timeout'), '10s')
    .option('--agents <host:port,...>', 'run on these `weft perf agent`s, the rate split between them', agentList)
    .option('-o, --output <file>', 'write the result as an SMP JSON document')
    .option('--no-progress', 'no progress bar or progress lines')
    .action(async (flags: RunFlags, command: Command) => {
      if ((flags.rate === undefined) === (flags.max !== true)) command.error('error: give exactly one of --rate R or --max');
      if (flags.body !== undefined && flags.bodySize !== undefined) command.error('error: give at most one of --body FILE and --body-size N');
      process.exitCode = await perfRun(flags);
    });

  perf
    .command('agent')
    .description('serve as a remote load generator for `weft perf run --agents`')
    .option('--listen <host:port>', 'control address', `0.0.0.0:${AGENT_DEFAULT_PORT}`)
    .action(async (flags: { listen: string }, command: Command) => {
      const match = /^(.+):(\d+)$/.exec(flags.listen);
      if (!match || Number(match[2]) > 65535) command.error(`error: --listen must be host:port, got ${JSON.stringify(flags.listen)}`);
      // Loaded on use, like every heavy module here: `weft proxy` shares this entry point.
      const { startPerfAgent } = await import('../perf/agent.js');
      const agent = await startPerfAgent({ host: match![1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match![2]), log: (line) => process.stderr.write(`weft perf agent: ${line}\n`) });
      process.stdout.write(`weft perf agent listening on ${agent.host.includes(':') ? `[${agent.host}]` : agent.host}:${agent.port}\n`);
      const stop = (): void => void agent.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function loadOptionsFrom(flags: RunFlags): Partial<LoadOptions> & { url: string } {
  let body: Uint8Array | undefined;
  if (flags.body !== undefined) {
    try {
      body = readFileSync(flags.body);
    } catch (error) {
      throw new Error(`--body ${flags.body}: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else if (flags.bodySize !== undefined) body = Buffer.alloc(flags.bodySize, 'x');
  return {
    url: flags.url,
    protocol: flags.protocol,
    rate: flags.rate,
    durationMs: parseDuration('duration', flags.duration),
    warmupMs: parseDuration('warmup', flags.warmup),
    connections: flags.connections,
    threads: flags.threads,
    method: flags.method,
    headers: flags.header.map((h) => parseHeader('header', h)),
    body,
    timeoutMs: parseDuration('timeout', flags.timeout),
    agents: flags.agents ?? [],
  };
}

async function perfRun(flags: RunFlags): Promise<number> {
  const options = loadOptionsFrom(flags);
  try {
    const result = await runLoadInteractively(options, flags.progress);
    if (flags.output !== undefined) {
      const { toSmpResult } = await import('../perf/smp.js');
      writeFileSync(flags.output, `${JSON.stringify(toSmpResult(result), null, 2)}\n`);
      process.stderr.write(`weft perf: wrote ${flags.output}${result.partial ? ' (partial)' : ''}\n`);
    }
    return loadRunExitCode(result);
  } catch (error) {
    if (error instanceof LoadOptionError) throw new Error(`bad option ${error.message}`);
    throw error;
  }
}

