/** Envoy's Bootstrap (`envoy.config.bootstrap.v3`): node, admin, static resources and ADS. */
import { Type, type Static } from '@sinclair/typebox';
import { AccessLog } from './schema-access-log.js';
import { Address, Obj, Opt, Str, Struct, unsupportedFields } from './schema-common.js';
import { Cluster } from './schema-cluster.js';
import { DynamicResources } from './schema-config-source.js';
import { Listener } from './schema-listener.js';
import { Secret } from './schema-tls.js';

const Node = Obj({
  id: Opt(Str()),
  cluster: Opt(Str()),
  metadata: Opt(Struct()),
  ...unsupportedFields(['locality', 'user_agent_name', 'user_agent_version', 'user_agent_build_version', 'extensions', 'client_features', 'dynamic_parameters']),
});

const Admin = Obj({
  address: Address,
  /** Deprecated in Envoy in favour of access_log, still widely used. */
  access_log_path: Opt(Str()),
  access_log: Opt(Type.Array(AccessLog)),
  ...unsupportedFields(['profile_path', 'socket_options', 'ignore_global_conn_limit', 'allow_paths']),
});

const StaticResources = Obj({
  listeners: Opt(Type.Array(Listener)),
  clusters: Opt(Type.Array(Cluster)),
  secrets: Opt(Type.Array(Secret)),
});

export const Bootstrap = Obj({
  node: Opt(Node),
  admin: Opt(Admin),
  static_resources: Opt(StaticResources),
  dynamic_resources: Opt(DynamicResources),
  ...unsupportedFields([
    'layered_runtime', 'cluster_manager', 'hds_config', 'flags_path', 'stats_sinks',
    'deferred_stat_options', 'stats_config', 'stats_flush_interval', 'stats_flush_on_admin', 'watchdog', 'watchdogs',
    'tracing', 'overload_manager', 'enable_dispatcher_stats', 'header_prefix', 'stats_server_version_override',
    'use_tcp_for_dns_lookups', 'dns_resolution_config', 'typed_dns_resolver_config', 'bootstrap_extensions',
    'fatal_actions', 'config_sources', 'default_config_source', 'default_socket_interface', 'certificate_provider_instances',
    'inline_headers', 'perf_tracing_file_path', 'default_regex_engine', 'xds_delegate_extension', 'xds_config_tracker_extension',
    'listener_manager', 'application_log_config', 'grpc_async_client_manager_config', 'memory_allocator_manager',
    'node_context_params',
  ]),
});

export type RawBootstrap = Static<typeof Bootstrap>;
export type RawAdmin = Static<typeof Admin>;
export type RawNode = Static<typeof Node>;
