import { pino } from 'pino';
const { startControlPlane } = await import('../dist/src/controlplane/server.js');
console.log('imported');
const log = pino({ level: 'debug' });
const t = setTimeout(() => { console.log('timeout'); process.exit(3); }, 6000);
const cp = await startControlPlane({ store: { kind: 'sqlite', dataDir: '/tmp/secca-cp' }, xdsPort: 0, apiPort: 0, host: '127.0.0.1', log });
console.log('started', cp.xdsPort, cp.apiPort);
clearTimeout(t);
await cp.close();
