/**
 * Workload registration tokens. A token is derived, not stored: an HMAC of the
 * workload's namespace, name and uid under the CA's token secret. It exists as
 * soon as the Workload is registered, an admin can fetch it any time
 * (`weft identity NAME --token`), and it dies with the Workload (re-registering
 * gives a new uid, hence a new token). The namespace and name travel inside the
 * token, so the CA knows which Workload a token claims before checking it.
 *
 *   wlt1.<base64url(namespace/name)>.<base64url(HMAC-SHA256(secret, namespace/name/uid))>
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'wlt1';

export function newTokenSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function workloadToken(secret: string, namespace: string, name: string, uid: string): string {
  return `${PREFIX}.${Buffer.from(`${namespace}/${name}`).toString('base64url')}.${mac(secret, namespace, name, uid)}`;
}

/** The workload a token claims to be for (unchecked), or undefined when it is not a token at all. */
export function tokenClaim(token: string): { namespace: string; name: string } | undefined {
  const [prefix, claim, tag, ...rest] = token.split('.');
  if (prefix !== PREFIX || claim === undefined || tag === undefined || rest.length > 0) return undefined;
  const [namespace, name, ...more] = Buffer.from(claim, 'base64url').toString().split('/');
  if (namespace === undefined || name === undefined || name === '' || more.length > 0) return undefined;
  return { namespace, name };
}

/** Whether `token` is the token of this workload incarnation (constant-time). */
export function tokenMatches(token: string, secret: string, namespace: string, name: string, uid: string): boolean {
  const expected = Buffer.from(workloadToken(secret, namespace, name, uid));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function mac(secret: string, namespace: string, name: string, uid: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(`${namespace}/${name}/${uid}`).digest('base64url');
}
