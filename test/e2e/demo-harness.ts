/**
 * Running the real `weft demo` (BookInfo) as a child process for end-to-end
 * tests: a free block of ports for it, start until it says it is ready, and a
 * stop that leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portFree } from '../../src/lib/free-ports.js';
import { childPids, waitFor, WEFT_BIN } from './harness.js';

/** Ports the demo derives from its base: base .. base+PORT_SPAN (samples/demo/bookinfo-plan.ts). */
const PORT_SPAN = 300;

/** Every process below `pid`, children first. */
export function descendants(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

/** A base whose whole span is free, below the ephemeral range so port-0 sockets of other tests cannot take it meanwhile. */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 120);
    let free = true;
    for (let port = base; port < base + PORT_SPAN && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error('no free block of ports for the demo');
}

export interface DemoProcess {
  child: ChildProcess;
  base: number;
  dataDir: string;
  output(): string;
  /** SIGKILLs the demo and everything below it if still running; removes its data dir. */
  kill(): void;
}

/** Starts `weft demo --port-base <free> --rps <rps>` and waits for its ready line. */
export async function startDemo(rps: number): Promise<DemoProcess> {
  const base = await freePortBase();
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const child = spawn(WEFT_BIN, ['demo', '--port-base', String(base), '--data-dir', dataDir, '--rps', String(rps)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const demo: DemoProcess = {
    child,
    base,
    dataDir,
    output: () => output,
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        for (const pid of [...descendants(child.pid!), child.pid!]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(() => output.includes('Press Ctrl-C to stop.') || child.exitCode !== null, 'the demo to start', 80_000);
    if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output}`);
  } catch (err) {
    demo.kill(); // nothing may outlive a failed start
    throw err;
  }
  return demo;
}
