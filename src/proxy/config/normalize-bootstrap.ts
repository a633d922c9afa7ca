/**
 * The validated bootstrap -> Bootstrap: clusters first (so references can be
 * checked), then listeners, then dynamic_resources (whose ADS cluster must be one
 * of the static clusters), plus the checks that span the whole document
 * (unique names, one listener per address).
 */
import { ConfigError } from '../../lib/errors.js';
import { durationMs } from './duration.js';
import { normalizeAccessLogs } from './normalize-access-log.js';
import { bindAddress } from './normalize-common.js';
import { normalizeCluster } from './normalize-cluster.js';
import { normalizeListener } from './normalize-listener.js';
import { normalizeSecret } from './normalize-tls.js';
import type { ClusterReferenceCheck } from './normalize-route.js';
import { fieldPath, indexPath } from './path.js';
import type { RawAdmin, RawBootstrap } from './schema-bootstrap.js';
import type { RawDynamicResources } from './schema-config-source.js';
import type { AdminConfig, Bootstrap, ClusterConfig, DynamicResourcesConfig, ListenerConfig } from './types.js';

const LISTENERS_PATH = 'static_resources.listeners';
const CLUSTERS_PATH = 'static_resources.clusters';
const SECRETS_PATH = 'static_resources.secrets';

const DYNAMIC_PATH = 'dynamic_resources';
const ADS_CLUSTER_PATH = 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name';
/** Envoy's default initial_fetch_timeout. */
const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

export function normalizeBootstrap(raw: RawBootstrap, source: unknown): Bootstrap {
  const dynamic = raw.dynamic_resources;
  const adsCluster = dynamic?.ads_config.grpc_services[0]!.envoy_grpc.cluster_name;
  const secrets = (raw.static_resources?.secrets ?? []).map((s, i) => normalizeSecret(s, indexPath(SECRETS_PATH, i)));
  checkUniqueNames(secrets, SECRETS_PATH, 'secret');
  const staticSecrets = new Set(secrets.map((s) => s.name));
  const clusters = (raw.static_resources?.clusters ?? []).map((c, i) =>
    normalizeCluster(c, indexPath(CLUSTERS_PATH, i), { ads: dynamic !== undefined, isAdsCluster: c.name === adsCluster, staticSecrets }));
  checkUniqueNames(clusters, CLUSTERS_PATH, 'cluster');
  const clusterNames = new Set(clusters.map((c) => c.name));
  // With CDS, a static listener may route to a cluster the ADS server has not sent yet.
  const checkCluster: ClusterReferenceCheck = (name, path) => {
    if (!clusterNames.has(name) && dynamic?.cds_config === undefined) throw new ConfigError(path, `unknown cluster ${JSON.stringify(name)}`);
  };
  const listeners = (raw.static_resources?.listeners ?? []).map((l, i) =>
    normalizeListener(l, indexPath(LISTENERS_PATH, i), { checkCluster, ads: dynamic !== undefined, staticSecrets }));
  checkUniqueNames(listeners, LISTENERS_PATH, 'listener');
  checkUniqueAddresses(listeners);
  const bootstrap: Bootstrap = {
    node: { id: raw.node?.id ?? '', cluster: raw.node?.cluster ?? '', metadata: raw.node?.metadata ?? {} },
    listeners,
    clusters,
    secrets,
    source,
  };
  if (raw.admin !== undefined) bootstrap.admin = normalizeAdmin(raw.admin, 'admin');
  if (dynamic !== undefined) bootstrap.dynamicResources = normalizeDynamicResources(dynamic, clusters);
  return bootstrap;
}

function normalizeDynamicResources(raw: RawDynamicResources, clusters: ClusterConfig[]): DynamicResourcesConfig {
  const ads = raw.ads_config;
  const servicesPath = fieldPath(fieldPath(DYNAMIC_PATH, 'ads_config'), 'grpc_services');
  if (ads.grpc_services.length > 1) throw new ConfigError(indexPath(servicesPath, 1), 'exactly one ADS server (grpc_services entry) is supported');
  const adsCluster = ads.grpc_services[0]!.envoy_grpc.cluster_name;
  const cluster = clusters.find((c) => c.name === adsCluster);
  if (cluster === undefined) throw new ConfigError(ADS_CLUSTER_PATH, `unknown cluster ${JSON.stringify(adsCluster)}: the ADS cluster must be a static cluster`);
  if (cluster.type === 'EDS') throw new ConfigError(ADS_CLUSTER_PATH, `the ADS cluster ${JSON.stringify(adsCluster)} cannot be an EDS cluster: its endpoints are needed to reach the ADS server`);
  if (cluster.endpoints.length === 0) throw new ConfigError(ADS_CLUSTER_PATH, `the ADS cluster ${JSON.stringify(adsCluster)} has no endpoints`);
  const timeouts = [raw.lds_config, raw.cds_config].map((source) => durationMs(source?.initial_fetch_timeout, DEFAULT_INITIAL_FETCH_TIMEOUT_MS));
  return {
    adsCluster,
    setNodeOnFirstMessageOnly: ads.set_node_on_first_message_only ?? false,
    lds: raw.lds_config !== undefined,
    cds: raw.cds_config !== undefined,
    initialFetchTimeoutMs: Math.max(...timeouts),
  };
}

function checkUniqueNames(items: ReadonlyArray<{ name: string }>, path: string, what: string): void {
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
  const admin: AdminConfig = { address: bindAddress(raw.address.socket_address, fieldPath(fieldPath(path, 'address'), 'socket_address')) };
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
