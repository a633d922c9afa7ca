/**
 * Envoy's internal/external request rule (HCM header sanitizing): a request is
 * internal only when, after x-forwarded-for processing, that header holds a
 * single address and the address is internal. Without use_remote_address and
 * without an x-forwarded-for header the request is external, even from a local
 * peer. Only internal requests may steer the router with x-envoy-* headers.
 */
import { isInternalAddress } from '../../lib/cidr.js';
import type { HttpConnectionManagerConfig } from '../config/types.js';
import type { HeaderMap } from './headers.js';

export function isInternalRequest(headers: HeaderMap, config: HttpConnectionManagerConfig, peer: string | undefined): boolean {
  const xff = headers.getJoined('x-forwarded-for');
  // With skip_xff_append the peer was not appended: Envoy then judges the peer when no header came in.
  if (config.useRemoteAddress && config.skipXffAppend) return xff === undefined && peer !== undefined && isInternalAddress(peer);
  return xff !== undefined && !xff.includes(',') && isInternalAddress(xff.trim());
}
