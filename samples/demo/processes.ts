/**
 * The demo's child processes: each started in its own process group (so a
 * terminal's Ctrl-C reaches only the demo, which then stops them in order),
 * with stdout and stderr in a log file of its own. An unexpected exit is
 * reported once with the tail of that log. If the demo itself dies, whatever
 * still runs is killed on the way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ChildSpec {
  /** Names the log file (`<logDir>/<name>.log`) and the process in messages. */
  name: string;
  command: string;
  args: string[];
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export interface ManagedChild {
  spec: ChildSpec;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** How long a child may take to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 15;

export class ProcessGroup {
  private readonly children: ManagedChild[] = [];
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly onUnexpectedExit: (child: ManagedChild, how: number | string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
    // Last resort (an exception in the demo): never leave processes behind.
    process.once('exit', () => {
      for (const child of this.children) if (isRunning(child.process)) killGroup(child);
    });
  }

  /** A long-running child: its exit before `stopAll` is reported to `onUnexpectedExit`. */
  start(spec: ChildSpec): ManagedChild {
    const managed = this.launch(spec);
    void managed.exited.then((how) => {
      if (!this.stopping) this.onUnexpectedExit(managed, how);
    });
    return managed;
  }

  /** Runs a command to completion (e.g. `weft apply`); rejects with its log's tail on failure. */
  async run(spec: ChildSpec): Promise<void> {
    const managed = this.launch(spec);
    const how = await managed.exited;
    if (how !== 0) throw new Error(`${spec.name} failed (${how}):\n${logTail(managed.logFile)}`);
  }

  /**
   * Stops the children in stages, in the order given (e.g. the services and
   * their sidecars, then the control plane), each stage in parallel, anything
   * not named first; waits for every process to exit.
   */
  async stopAll(stages: ReadonlyArray<ReadonlyArray<ManagedChild>> = []): Promise<void> {
    this.stopping = true;
    const staged = new Set(stages.flat());
    const rest = this.children.filter((c) => !staged.has(c));
    for (const stage of [rest, ...stages]) await Promise.all(stage.map(stopChild));
  }

  private launch(spec: ChildSpec): ManagedChild {
    if (this.stopping) throw new Error(`not starting ${spec.name}: the demo is stopping`);
    const logFile = join(this.logDir, `${spec.name}.log`);
    const fd = openSync(logFile, 'w');
    const env = spec.env === undefined ? process.env : { ...process.env, ...spec.env };
    const child = spawn(spec.command, spec.args, { stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', fd, fd], detached: true, env });
    closeSync(fd);
    child.stdin?.end(spec.stdin);
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? code ?? 'unknown'));
      child.once('error', (err) => resolve(err.message));
    });
    const managed: ManagedChild = { spec, process: child, logFile, exited };
    this.children.push(managed);
    return managed;
  }
}

async function stopChild(child: ManagedChild): Promise<void> {
  if (!isRunning(child.process)) return;
  child.process.kill('SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  const timer = setTimeout(() => {
    process.stderr.write(`demo: ${child.spec.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it\n`);
    killGroup(child);
  }, STOP_GRACE_MS);
  await child.exited;
  // Its own children (a proxy's workers and xDS agent) may take a moment longer.
  while (groupAlive(child) && Date.now() < deadline) await delay(50);
  clearTimeout(timer);
  if (groupAlive(child)) killGroup(child);
}

function groupAlive(child: ManagedChild): boolean {
  try {
    process.kill(-child.process.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child and whatever it started (a proxy's workers and xDS agent): its process group. */
function killGroup(child: ManagedChild): void {
  try {
    process.kill(-child.process.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** The last lines of a log file, indented, for error messages. */
export function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).map((line) => `    ${line}`).join('\n');
  } catch {
    return `    (no log at ${file})`;
  }
}
