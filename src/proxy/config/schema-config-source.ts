/**
 * Envoy's ConfigSource and the bootstrap's dynamic_resources, the supported subset:
 * everything dynamic comes over one ADS stream (state of the world, xDS v3), so a
 * ConfigSource is always `{ ads: {}, resource_api_version: V3 }`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Bool, Duration, Enum, NonEmptyStr, Obj, Opt, Unsupported, unsupportedFields } from './schema-common.js';

const ONLY_ADS = 'not supported yet: dynamic resources come only over ADS (set ads: {})';

/** A resource type fetched over the ADS stream (lds_config, cds_config, rds.config_source, eds_config). */
export const AdsConfigSource = Obj({
  ads: Obj({}),
  resource_api_version: Opt(Enum(['V3'])),
  initial_fetch_timeout: Opt(Duration()),
  path: Opt(Unsupported(ONLY_ADS)),
  path_config_source: Opt(Unsupported(ONLY_ADS)),
  api_config_source: Opt(Unsupported(ONLY_ADS)),
  self: Opt(Unsupported(ONLY_ADS)),
  ...unsupportedFields(['authorities']),
});

const GrpcService = Obj({
  envoy_grpc: Obj({
    cluster_name: NonEmptyStr(),
    ...unsupportedFields(['authority', 'retry_policy', 'max_receive_message_length', 'skip_envoy_headers']),
  }),
  timeout: Opt(Duration()),
  google_grpc: Opt(Unsupported('not supported yet: use envoy_grpc with a static cluster')),
  ...unsupportedFields(['initial_metadata', 'retry_policy']),
});

const AdsApiConfigSource = Obj({
  /** DELTA_GRPC is not implemented by the client yet. */
  api_type: Enum(['GRPC']),
  transport_api_version: Opt(Enum(['V3'])),
  /** Exactly one is supported (checked in code, to say so). */
  grpc_services: Type.Array(GrpcService, { minItems: 1 }),
  set_node_on_first_message_only: Opt(Bool()),
  ...unsupportedFields(['cluster_names', 'refresh_delay', 'request_timeout', 'rate_limit_settings', 'config_validators']),
});

export const DynamicResources = Obj({
  ads_config: AdsApiConfigSource,
  lds_config: Opt(AdsConfigSource),
  cds_config: Opt(AdsConfigSource),
  ...unsupportedFields(['lds_resources_locator', 'cds_resources_locator']),
});

export type RawAdsConfigSource = Static<typeof AdsConfigSource>;
export type RawDynamicResources = Static<typeof DynamicResources>;
