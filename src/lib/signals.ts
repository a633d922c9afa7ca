/**
 * Graceful shutdown for long-running commands: the first SIGTERM or SIGINT runs
 * `stop` (drain, then release) and exits 0, or 1 if stopping failed; repeated
 * signals while stopping are ignored. SIGHUP runs `reload` when given.
 */
import type { Logger } from './json-log.js';

export function handleShutdownSignals(log: Logger, stop: () => Promise<void>, reload?: () => void): void {
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  if (reload !== undefined) process.on('SIGHUP', reload);
}
