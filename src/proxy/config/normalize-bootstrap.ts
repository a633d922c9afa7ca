/**
 * The validated bootstrap -> Bootstrap: clusters first (so references can be
 * checked), then listeners, plus the checks that span the whole document
 * (unique names, one listener per address).
 */
import { ConfigError } from '../../lib/errors.js';
import { normalizeAccessLogs } from './normalize-access-log.js';
import { normalizeCluster } from './normalize-cluster.js';
import { normalizeListener } from './normalize-listener.js';
import type { ClusterReferenceCheck } from './normalize-route.js';
import { fieldPath, indexPath } from './path.js';
import type { RawAdmin, RawBootstrap } from './schema-bootstrap.js';
import type { AdminConfig, Bootstrap, ClusterConfig, ListenerConfig } from './types.js';

const LISTENERS_PATH = 'static_resources.listeners';
const CLUSTERS_PATH = 'static_resources.clusters';

export function normalizeBootstrap(raw: RawBootstrap, source: unknown): Bootstrap {
  const clusters = (raw.static_resources?.clusters ?? []).map((c, i) => normalizeCluster(c, indexPath(CLUSTERS_PATH, i)));
  checkUniqueNames(clusters, CLUSTERS_PATH, 'cluster');
  const clusterNames = new Set(clusters.map((c) => c.name));
  const checkCluster: ClusterReferenceCheck = (name, path) => {
    if (!clusterNames.has(name)) throw new ConfigError(path, `unknown cluster ${JSON.stringify(name)}`);
  };
  const listeners = (raw.static_resources?.listeners ?? []).map((l, i) => normalizeListener(l, indexPath(LISTENERS_PATH, i), checkCluster));
  checkUniqueNames(listeners, LISTENERS_PATH, 'listener');
  checkUniqueAddresses(listeners);
  const bootstrap: Bootstrap = {
    node: { id: raw.node?.id ?? '', cluster: raw.node?.cluster ?? '', metadata: raw.node?.metadata ?? {} },
    listeners,
    clusters,
    source,
  };
  if (raw.admin !== undefined) bootstrap.admin = normalizeAdmin(raw.admin, 'admin');
  return bootstrap;
}

function checkUniqueNames(items: ReadonlyArray<ListenerConfig | ClusterConfig>, path: string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach(({ name }, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new ConfigError(fieldPath(indexPath(path, i), 'name'), `duplicate ${what} name ${JSON.stringify(name)} (also ${indexPath(path, first)})`);
    seen.set(name, i);
  });
}

/** Two listeners cannot bind the same address and port (port 0 asks the OS for a fresh one each time). */
function checkUniqueAddresses(listeners: ListenerConfig[]): void {
  const seen = new Map<string, number>();
  listeners.forEach(({ address }, i) => {
    if (address.port === 0) return;
    const key = `${address.address}:${address.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(fieldPath(indexPath(LISTENERS_PATH, i), 'address'), `${key} is already used by ${indexPath(LISTENERS_PATH, first)}`);
    }
    seen.set(key, i);
  });
}

/** AdminConfig holds one log path: `access_log_path`, or a single format-less logger from `access_log`. */
function normalizeAdmin(raw: RawAdmin, path: string): AdminConfig {
  const socket = raw.address.socket_address;
  const admin: AdminConfig = { address: { address: socket.address, port: socket.port_value } };
  const logsPath = fieldPath(path, 'access_log');
  const logs = normalizeAccessLogs(raw.access_log, logsPath);
  if (logs.length > 0 && raw.access_log_path !== undefined) throw new ConfigError(logsPath, 'set access_log or access_log_path, not both');
  if (logs.length > 1) throw new ConfigError(indexPath(logsPath, 1), 'only one admin access log is supported');
  const log = logs[0];
  if (log !== undefined && (log.jsonFormat !== undefined || log.textFormat !== undefined)) {
    throw new ConfigError(fieldPath(fieldPath(indexPath(logsPath, 0), 'typed_config'), 'log_format'), 'not supported yet for the admin access log');
  }
  const accessLogPath = log?.path ?? raw.access_log_path;
  if (accessLogPath !== undefined && accessLogPath !== '') admin.accessLogPath = accessLogPath;
  return admin;
}
