/**
 * Child processes and temp dirs of a benchmark run, cleaned up however the run ends.
 *
 * Every child is spawned in its own process group (detached) so that stopping it
 * also stops what it forked (nginx workers, weft workers): we signal the group.
 * On normal exit, an uncaught error, SIGINT or SIGTERM, every group still alive
 * gets SIGKILL and every temp dir is removed.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited; rejects if it could not be spawned. */
  readonly exited: Promise<ExitStatus>;
  readonly hasExited: boolean;
  /** The last OUTPUT_TAIL_BYTES of stdout / stderr. */
  stdout(): string;
  stderr(): string;
  /** Signals the process group, waits up to graceMs, then SIGKILLs whatever is left. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
}

const OUTPUT_TAIL_BYTES = 64 * 1024;

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let cleanupInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

function cleanupNow(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping child processes`);
      process.exit(code);
    });
  }
}

/** A temp dir removed at exit. */
export function makeTempDir(prefix: string): string {
  installCleanup();
  const dir = mkdtempSync(join(tmpdir(), `weft-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

class OutputTail {
  private text = '';
  append(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > OUTPUT_TAIL_BYTES) this.text = this.text.slice(-OUTPUT_TAIL_BYTES);
  }
  toString(): string {
    return this.text;
  }
}

export function spawnManaged(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ManagedProcess {
  installCleanup();
  return manage(name, command, spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }));
}

/** A Node.js module run in its own process group with an IPC channel (`child.send`, `child.on('message')`). */
export function forkManaged(name: string, modulePath: string, args: readonly string[] = []): { process: ManagedProcess; child: ChildProcess } {
  installCleanup();
  const child = fork(modulePath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  return { process: manage(name, modulePath, child), child };
}

function manage(name: string, command: string, child: ChildProcess): ManagedProcess {
  const out = new OutputTail();
  const err = new OutputTail();
  // Always drain the pipes: a child blocked on a full pipe would skew the numbers.
  child.stdout?.on('data', (chunk: Buffer) => out.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.append(chunk));
  let hasExited = false;
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      hasExited = true;
      const hint = error.code === 'ENOENT' ? ' (not installed? run scripts/install-system-deps.sh)' : '';
      reject(new Error(`${name}: cannot run ${command}${hint}`, { cause: error }));
    });
    // 'close', not 'exit': the output tails are complete only once the pipes closed.
    child.once('close', (code, signal) => {
      hasExited = true;
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolve({ code, signal });
    });
  });
  // Callers that never await `exited` must not crash the run with an unhandled rejection.
  exited.catch(() => {});
  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);

  return {
    name,
    pid,
    exited,
    get hasExited() {
      return hasExited;
    },
    stdout: () => out.toString(),
    stderr: () => err.toString(),
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitStatus> {
      if (pid <= 0) return exited;
      if (!hasExited) killGroup(pid, signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      // The leader may have exited before its group (or never): finish the group off.
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
      return first === 'timeout' ? exited : first;
    },
  };
}

/** Runs a command to completion and returns its stdout; throws with its stderr on a non-zero exit. */
export async function runToCompletion(name: string, command: string, args: readonly string[]): Promise<string> {
  const child = spawnManaged(name, command, args);
  const status = await child.exited;
  if (status.code !== 0) {
    throw new Error(`${name} exited with ${status.code ?? status.signal}: ${child.stderr().trim() || child.stdout().trim()}`);
  }
  return child.stdout();
}
