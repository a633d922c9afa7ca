/** Helpers for the load generator's tests: target servers in their own processes, the real `weft` CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

export const WEFT_BIN = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));
const TARGET_SERVER = fileURLToPath(new URL('./target-server.js', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number). */
  exited: Promise<number>;
  kill(): Promise<void>;
}

export function spawnProcess(command: string, args: readonly string[]): Spawned {
  // stdin stays open as a lifeline: target servers exit when it closes (this process died).
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close', not 'exit': the output is complete only once the pipes closed.
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `pattern` appears in the process's stdout; fails with its output if it exits first or takes over `timeoutMs`. */
export async function waitForOutput(proc: Spawned, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(proc.stdout());
    if (match) return match;
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no ${pattern} from ${proc.child.spawnargs.join(' ')} (exit ${proc.child.exitCode}):\n${proc.stdout()}\n${proc.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TargetServer {
  port: number;
  url: string;
  proc: Spawned;
  /** Requests seen per peer address. */
  stats(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** target-server.ts in its own process; `prefix` runs it inside another command (e.g. `ip netns exec NS`). */
export async function startTargetServer(args: readonly string[] = [], host = '127.0.0.1'): Promise<TargetServer> {
  const proc = spawnProcess(process.execPath, [TARGET_SERVER, '--host', host, ...args]);
  preferTimely(proc.child.pid!);
  const port = Number((await waitForOutput(proc, /listening (\d+)/))[1]);
  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    port,
    url: `${base}/`,
    proc,
    stats: async () => (await (await fetch(`${base}/__stats`)).json()) as Record<string, number>,
    close: () => proc.kill(),
  };
}

/** The real CLI at nice -10 (see preferTimely): it is the load generator under test. */
export function runWeft(args: readonly string[]): Spawned {
  const proc = spawnProcess(process.execPath, [WEFT_BIN, ...args]);
  preferTimely(proc.child.pid!);
  return proc;
}

export { setTimeout as sleep } from 'node:timers/promises';

/**
 * These tests measure the load generator, not the machine's scheduler: on a
 * shared, busy machine a 10 ms server answers in 13..40 ms to any client, wrk
 * included. So test generators and targets run at nice -10 when allowed (on a
 * quiet machine it does not matter). Never at a real-time priority: a
 * SCHED_FIFO generator and targets on a 2-core machine starved the test file
 * running beside them, and the kernel's network softirq thread, which turned
 * 10 ms answers into 10 s timeouts.
 */
export function preferTimely(pid: number): string {
  try {
    setPriority(pid, -10);
    return 'nice -10';
  } catch {
    return 'normal priority';
  }
}
