/** Two sidecars over mTLS (tls-fixtures.ts's bootstraps) as real `weft proxy` processes, for the TLS end-to-end tests. */
import { freePort, startProxy, startUpstream, type ProxyProcess, type Upstream } from './harness.js';
import { clientSidecar, identities, serverSidecar, spiffe, type Identities, type SidecarPki } from './tls-fixtures.js';

/** A client sidecar and a server sidecar over mTLS in front of an echo app, on free ports, with the identities they hold. */
export interface SidecarPair {
  ids: Identities;
  app: Upstream;
  server: ProxyProcess;
  client: ProxyProcess;
  serverPort: number;
  clientPort: number;
  stop(): Promise<void>;
}

/** Starts the pair; `clientClusterExtra` goes into the client's cluster towards the server (e.g. max_requests_per_connection). */
export async function startSidecarPair(clientClusterExtra: Record<string, unknown> = {}): Promise<SidecarPair> {
  const ids = await identities();
  const app = await startUpstream(undefined, 'app');
  const [serverPort, clientPort] = [await freePort(), await freePort()];
  const pki: SidecarPki = { caBundle: ids.ca.certPem, server: ids.server, client: ids.client };
  const server = await startProxy(serverSidecar(await freePort(), serverPort, app.port, pki));
  const client = await startProxy(clientSidecar(await freePort(), clientPort, serverPort, pki, spiffe('server'), clientClusterExtra));
  return {
    ids, app, server, client, serverPort, clientPort,
    async stop() {
      await client.stop();
      await server.stop();
      await app.close();
    },
  };
}
