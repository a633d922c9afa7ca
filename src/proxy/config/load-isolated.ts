/**
 * Parses and validates a bootstrap in a short-lived child process and returns the
 * normalized result. The schema validator (ajv with compiled Envoy schemas,
 * TypeBox, the YAML parser) costs tens of megabytes that V8 never gives back;
 * keeping it out of the proxy process keeps every sidecar's RSS small. The
 * result crosses over with V8 serialization, so Buffers stay Buffers.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { ConfigError, WeftError } from '../../lib/errors.js';
import type { Bootstrap } from './types.js';

const PARSER = new URL('./parse-process.js', import.meta.url);
const TIMEOUT_MS = 30_000;

/** What parse-process.ts sends back: the bootstrap, or the rejection. */
export type ParseReply = { ok: true; bootstrap: Bootstrap } | { ok: false; path?: string; reason?: string; message: string };

/** Throws ConfigError (with the field path) for a bad config, WeftError when the parser process itself fails. */
export function loadBootstrapIsolated(file: string): Promise<Bootstrap> {
  return new Promise((resolve, reject) => {
    const child = fork(PARSER, [file], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    let reply: ParseReply | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('message', (message: ParseReply) => (reply = message));
    child.once('error', (err) => reject(new WeftError('WEFT_ERR_CONFIG', `config parser process failed: ${err.message}`, { cause: err })));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply === undefined) {
        reject(new WeftError('WEFT_ERR_CONFIG', `config parser process exited (${signal ?? code}) without an answer for ${file}`));
      } else if (reply.ok) {
        resolve(reply.bootstrap);
      } else if (reply.path !== undefined && reply.reason !== undefined) {
        const error = new ConfigError(reply.path, reply.reason);
        error.message = reply.message;
        reject(error);
      } else {
        reject(new WeftError('WEFT_ERR_CONFIG', reply.message));
      }
    });
  });
}

/** The bootstrap's text; a file that cannot be read (missing, a directory, no permission) is a ConfigError naming it. */
export async function readBootstrapText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read the bootstrap: ${(err as Error).message}`, { cause: err });
  }
}
