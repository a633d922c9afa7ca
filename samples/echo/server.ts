/**
 * A tiny sample HTTP service: answers every request with JSON naming itself and
 * echoing what it received. `node dist/samples/echo/server.js --name web --version v1 --port 18081`
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'echo' },
    version: { type: 'string', default: 'v1' },
    port: { type: 'string', default: '18081' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.stringify({
      service: values.name,
      version: values.version,
      method: req.method,
      path: req.url,
      headers: req.headers,
      bodyBytes: Buffer.concat(chunks).length,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': `${values.name}-${values.version}` });
    res.end(`${body}\n`);
  });
});

server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`${values.name} ${values.version} listening on http://${values.host}:${values.port}\n`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
