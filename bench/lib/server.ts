import type { ManagedProcess } from './processes.js';

/** A server process under test and the loopback port it serves HTTP on. */
export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly process: ManagedProcess;
}
