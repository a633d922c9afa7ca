/**
 * Runs the real `weft` binary (compiled) as a child process against a real API
 * server on a real SQLite store in a temp dir.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startApiServer, type ApiServer } from '../../src/controlplane/api/server.js';
import { createTokenAuthority, type TokenAuthority } from '../../src/controlplane/api/tokens.js';
import { openSqliteStore } from '../../src/controlplane/store/sqlite-store.js';
import type { Store } from '../../src/controlplane/store/store.js';

export const WEFT_BIN = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));

export interface WeftResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliFixture {
  server: ApiServer;
  store: Store;
  url: string;
  dir: string;
  tokens: TokenAuthority;
  /** An admin token; `weft()` sends it. */
  adminToken: string;
  /** Runs `weft ARGS --server URL` with the admin token (or `token`); `input` goes to stdin. */
  weft(args: readonly string[], input?: string, token?: string): Promise<WeftResult>;
  /** Writes a file in the fixture's temp dir and returns its path. */
  file(name: string, text: string): string;
  close(): Promise<void>;
}

/** `token` goes in WEFT_TOKEN; WEFT_DATA_DIR points nowhere, so no local admin-token file is picked up by accident. */
export function runWeft(args: readonly string[], input?: string, token?: string): Promise<WeftResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, WEFT_SERVER: '', WEFT_TOKEN: token ?? '', WEFT_DATA_DIR: '/nonexistent/weft-test' };
    const child = execFile(process.execPath, [WEFT_BIN, ...args], { timeout: 20_000, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

export async function startCliFixture(options: { proxies?: () => unknown[] } = {}): Promise<CliFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  const store = openSqliteStore(join(dir, 'data'));
  const tokens = createTokenAuthority(store);
  const adminToken = (await tokens.create('admin')).token;
  const server = await startApiServer({ store, tokens, port: 0, log: pino({ level: 'silent' }), recheckDelayMs: 10, ...options });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    server,
    store,
    url,
    dir,
    tokens,
    adminToken,
    weft: (args, input, token) => runWeft([...args, '--server', url], input, token ?? adminToken),
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    close: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const BOOKINFO_YAML = `apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - name: http
    port: 9080
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata:
  name: reviews-v1
  labels:
    app: reviews
spec:
  address: 10.0.0.11
  service: reviews
  ports:
  - name: http
    port: 9080
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata:
  name: ratings-v1
spec:
  address: 10.0.0.12
  service: ratings
`;
