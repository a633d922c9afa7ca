/** Printing results and recording them in docs/benchmarks.md with the machine they ran on. */
import { appendFileSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { spawnManaged } from './processes.js';

const BENCHMARKS_DOC = join(repoRoot, 'docs', 'benchmarks.md');

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    // Same as `nproc`: the CPUs this process may run on.
    nproc: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
  };
}

/** First line `command args` prints, on stdout or stderr, whatever its exit code (nginx -v uses stderr, wrk -v exits 1). */
export async function toolVersion(command: string, args: readonly string[]): Promise<string> {
  const child = spawnManaged(command, command, args);
  try {
    await child.exited;
  } catch {
    return 'not installed';
  }
  return (child.stdout() + child.stderr()).trim().split('\n', 1)[0].trim();
}

/** The command that reproduces this run, as the operator would type it. */
export function reproducingCommand(): string {
  const args = process.argv.slice(2).join(' ');
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${args}` : `node dist/bench/run.js ${args}`;
}

/**
 * The first lines of a benchmark's section in docs/benchmarks.md: title and start time (marked when
 * the run was shortened), the command, the machine with its load average as the run ends (the
 * benchmark's own processes included: a busy machine shows), and the versions of `tools`.
 */
export async function sectionHeader(title: string, startedAt: Date, shortened: boolean, tools: ReadonlyArray<readonly [command: string, args: string[]]> = []): Promise<string[]> {
  const machine = machineInfo();
  const versions = await Promise.all(tools.map(([command, args]) => toolVersion(command, args)));
  const [one, five] = loadavg() as [number, number, number];
  return [
    `## ${title}, ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}${shortened ? ' (shortened run, not comparable)' : ''}`,
    '',
    `Command: \`${reproducingCommand()}\``,
    '',
    `Machine: nproc ${machine.nproc}, ${machine.cpuModel}, Node ${machine.node}, Linux ${machine.kernel}; load average ${one.toFixed(2)} (1 min) / ${five.toFixed(2)} (5 min) as the run ended.` +
      (versions.length > 0 ? ` Tools: ${versions.join('; ')}.` : ''),
  ];
}

/** A ratio as the checks tables print it: `0.85x`. */
export const ratio = (value: number): string => `${value.toFixed(2)}x`;
export const verdict = (passed: boolean): string => (passed ? 'PASS' : 'FAIL');

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function appendToBenchmarksDoc(section: string): void {
  appendFileSync(BENCHMARKS_DOC, `\n${section.trimEnd()}\n`);
}

/** Prints a finished run's section and, unless `--no-append`, records it in docs/benchmarks.md. */
export function publishSection(section: string, append: boolean): void {
  console.log(`\n${section}\n`);
  if (append) {
    appendToBenchmarksDoc(section);
    console.error('bench: appended to docs/benchmarks.md');
  }
}
