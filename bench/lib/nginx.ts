/** nginx as the benchmark upstream or as a reference reverse proxy, one worker each. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, LOOPBACK, waitForPort } from './ports.js';
import { makeTempDir, spawnManaged } from './processes.js';
import type { RunningServer } from './server.js';

/** Keep connections for the whole run, as wrk and the other proxies do. */
const KEEPALIVE_REQUESTS = 1_000_000_000;

async function startNginx(name: string, serverBlocks: (port: number) => string): Promise<RunningServer> {
  const dir = makeTempDir(name);
  const port = await freePort();
  // Every path nginx writes to lives in the temp dir, so no root or /var access is needed.
  const temp = (kind: string): string => {
    const path = join(dir, kind);
    mkdirSync(path);
    return path;
  };
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests ${KEEPALIVE_REQUESTS};
  keepalive_timeout 300s;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
${serverBlocks(port)}
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child = spawnManaged(name, 'nginx', ['-p', `${dir}/`, '-e', 'stderr', '-c', confPath]);
  await waitForPort(port, child);
  return { name, port, process: child };
}

/** The upstream every target forwards to: a two-byte 200 on any path. */
export function startNginxUpstream(): Promise<RunningServer> {
  return startNginx('nginx-upstream', (port) => `
  server {
    listen ${LOOPBACK}:${port};
    location / { return 200 "ok"; }
  }`);
}

/** nginx as a keep-alive reverse proxy in front of `upstreamPort`. */
export function startNginxProxy(upstreamPort: number): Promise<RunningServer> {
  return startNginx('nginx-proxy', (port) => `
  upstream backend {
    server ${LOOPBACK}:${upstreamPort};
    keepalive 32;
    keepalive_requests ${KEEPALIVE_REQUESTS};
  }
  server {
    listen ${LOOPBACK}:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`);
}
