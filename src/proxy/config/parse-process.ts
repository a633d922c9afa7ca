/**
 * The child side of load-isolated.ts: loads one bootstrap file, sends the
 * normalized Bootstrap (or the error with its field path) and exits.
 */
import { ConfigError } from '../../lib/errors.js';
import { loadBootstrapFile } from './bootstrap.js';
import type { ParseReply } from './load-isolated.js';

const file = process.argv[2] ?? '';

function send(reply: ParseReply): void {
  // The parent may be gone already (a worker stopped while starting): then just exit, quietly.
  process.send!(reply, () => {
    if (process.connected) process.disconnect();
  });
}

loadBootstrapFile(file).then(
  (bootstrap) => send({ ok: true, bootstrap }),
  (err: unknown) => {
    if (err instanceof ConfigError) send({ ok: false, path: err.path, reason: err.reason, message: err.message });
    else send({ ok: false, message: err instanceof Error ? err.message : String(err) });
  },
);
