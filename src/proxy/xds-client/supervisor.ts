/**
 * The proxy's side of the xDS agent: forks agent-process.ts (V8 serialization,
 * like config/load-isolated.ts), applies each config it sends and answers, and
 * restarts it with back-off if it dies. While no agent runs, the proxy keeps
 * serving the config it has. Imports no gRPC and no validator, on purpose.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Logger } from '../../lib/json-log.js';
import type { Bootstrap } from '../config/types.js';
import type { CertificateSigner } from '../identity/signer.js';
import { Backoff } from './backoff.js';
import type { AgentMessage, DynamicResourcesDump, ProxyReply, XdsStatus } from './protocol.js';

const AGENT = new URL('./agent-process.js', import.meta.url);

export interface XdsAgentSupervisorOptions {
  configPath: string;
  /** The admin listener's bound `host:port`, sent to the control plane as node metadata ADMIN_ADDRESS (it scrapes stats there). */
  adminAddress?: string;
  log: Logger;
  /** Applies a complete config; throws (with the reason) when it cannot. */
  apply(bootstrap: Bootstrap, dump: DynamicResourcesDump): Promise<void>;
  status(status: XdsStatus): void;
  backoff?: Backoff;
}

export interface XdsAgentSupervisor extends CertificateSigner {
  /** The agent's pid, while one runs. */
  readonly pid: number | undefined;
  /** The proxy's certificate and key for an mTLS ADS connection; kept and given to each agent it starts. */
  provideIdentity(certificateChainPem: string, privateKeyPem: string): void;
  /** Stops the agent and starts a new one (it re-reads the bootstrap). */
  restart(): void;
  stop(): Promise<void>;
}

export function superviseXdsAgent(options: XdsAgentSupervisorOptions): XdsAgentSupervisor {
  return new AgentSupervisor(options);
}

class AgentSupervisor implements XdsAgentSupervisor {
  private child: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly signing = new Map<number, { resolve: (chain: { certificateChainPem: string }) => void; reject: (err: Error) => void }>();
  private nextSignId = 1;
  private identity: Extract<ProxyReply, { type: 'weft:identity' }> | undefined;

  constructor(private readonly options: XdsAgentSupervisorOptions) {
    this.backoff = options.backoff ?? new Backoff({ baseMs: 250, maxMs: 30_000 });
    this.spawn();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  restart(): void {
    // The exit handler starts the next one.
    this.child?.kill('SIGTERM');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  provideIdentity(certificateChainPem: string, privateKeyPem: string): void {
    this.identity = { type: 'weft:identity', certificateChainPem, privateKeyPem };
    if (this.child?.connected === true) this.child.send(this.identity);
  }

  /** The CSR goes to the agent, which holds the gRPC client; the key stays in this process. */
  sign(csrPem: string): Promise<{ certificateChainPem: string }> {
    const child = this.child;
    if (child === undefined || !child.connected) return Promise.reject(new Error('certificate request: the xDS agent is not running'));
    const id = this.nextSignId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.signing.delete(id);
        reject(new Error('certificate request: no answer from the xDS agent in 30 s'));
      }, 30_000);
      timer.unref();
      this.signing.set(id, {
        resolve: (chain) => (clearTimeout(timer), resolve(chain)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      child.send({ type: 'weft:ca:sign', id, csrPem } satisfies ProxyReply);
    });
  }

  private spawn(): void {
    // The agent handles config, not requests: V8's lite mode (no optimizing compiler) keeps a
    // sidecar's agent at ~70 MB instead of ~118 MB, for ~0.2 s more start-up (measured with Envoy's protos loaded).
    // --no-expose-wasm: lite mode turns wasm off anyway, and says so on stderr unless asked explicitly.
    const child = fork(AGENT, [this.options.configPath, ...(this.options.adminAddress === undefined ? [] : [this.options.adminAddress])], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--lite-mode', '--no-expose-wasm'] });
    this.child = child;
    if (this.identity !== undefined) child.send(this.identity);
    child.on('message', (message: AgentMessage) => void this.onMessage(child, message));
    child.on('error', (err) => this.options.log.error({ err: err.message }, 'xDS agent process error'));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      const delay = this.backoff.next();
      this.options.log.error({ code, signal, restartInMs: delay }, 'xDS agent exited; the proxy keeps its config and restarts the agent');
      this.restartTimer = setTimeout(() => this.spawn(), delay);
      this.restartTimer.unref();
    });
    this.options.log.info({ pid: child.pid }, 'xDS agent started');
  }

  private async onMessage(child: ChildProcess, message: AgentMessage): Promise<void> {
    if (message.type === 'weft:xds:status') {
      this.options.status(message.status);
      return;
    }
    if (message.type === 'weft:ca:signed') {
      const waiter = this.signing.get(message.id);
      this.signing.delete(message.id);
      if (message.certificateChainPem !== undefined) waiter?.resolve({ certificateChainPem: message.certificateChainPem });
      else waiter?.reject(new Error(message.error ?? 'certificate request failed'));
      return;
    }
    let reply: ProxyReply;
    try {
      await this.options.apply(message.bootstrap, message.dump);
      this.backoff.reset();
      reply = { type: 'weft:xds:applied', id: message.id };
    } catch (err) {
      reply = { type: 'weft:xds:failed', id: message.id, error: err instanceof Error ? err.message : String(err) };
    }
    if (child.connected) child.send(reply);
  }
}
