import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/lib/errors.js';
import { parseRbacConfig } from '../../../../src/proxy/filters/rbac/config.js';
import { rbacFilterFactory, RBAC_DENIED_BODY } from '../../../../src/proxy/filters/rbac/filter.js';
import type { DownstreamInfo, FilterRequest } from '../../../../src/proxy/filters/filter.js';
import { HCM_PREFIX, makeContext, makeRequest, RecordingCallbacks } from '../harness.js';

const P = 'http_filters[0].typed_config';
const SPIFFE_PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';

function setup(raw: unknown) {
  const { context, store } = makeContext();
  const factory = rbacFilterFactory.createFilterFactory(parseRbacConfig(raw, P), context);
  return {
    stat: (name: string) => store.counter(`${HCM_PREFIX}${name}`).value(),
    /** Runs one request; returns the local reply or undefined when it passed. */
    run(request: FilterRequest = makeRequest(), downstream: Partial<DownstreamInfo> = {}) {
      const callbacks = new RecordingCallbacks(() => 0, downstream);
      const status = factory.create(callbacks).decodeHeaders(request, true);
      const reply = callbacks.localReplies[0];
      assert.equal(status === 0, reply === undefined, 'Continue exactly when no local reply');
      return reply;
    },
  };
}

describe('rbac filter: decisions', () => {
  it('ALLOW: a request matching a policy passes; others get 403 RBAC: access denied', () => {
    const s = setup({
      rules: {
        action: 'ALLOW',
        policies: {
          'productpage-reads': {
            permissions: [{ and_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'GET' } } }, { url_path: { path: { prefix: '/reviews' } } }] } }],
            principals: [{ authenticated: { principal_name: { exact: SPIFFE_PRODUCTPAGE } } }],
          },
        },
      },
    });
    assert.equal(s.run(makeRequest({}, { path: '/reviews/1?x=1' }), { peerPrincipal: SPIFFE_PRODUCTPAGE }), undefined);
    const wrongPath = s.run(makeRequest({}, { path: '/ratings/1' }), { peerPrincipal: SPIFFE_PRODUCTPAGE });
    assert.deepEqual(wrongPath, { status: 403, body: RBAC_DENIED_BODY, headers: [], details: 'rbac_access_denied_matched_policy[none]' });
    assert.equal(s.run(makeRequest({}, { method: 'POST', path: '/reviews/1' }), { peerPrincipal: SPIFFE_PRODUCTPAGE })?.status, 403);
    assert.equal(s.run(makeRequest({}, { path: '/reviews/1' }), { peerPrincipal: 'spiffe://cluster.local/ns/default/sa/other' })?.status, 403);
    assert.equal(s.run(makeRequest({}, { path: '/reviews/1' }))?.status, 403, 'plaintext: no principal');
    // The query string is not part of url_path.
    assert.equal(s.run(makeRequest({}, { path: '/ratings?/reviews' }), { peerPrincipal: SPIFFE_PRODUCTPAGE })?.status, 403);
    assert.equal(s.stat('rbac.allowed'), 1);
    assert.equal(s.stat('rbac.denied'), 5);
  });

  it('DENY: a matching policy is refused with its name in the details; others pass', () => {
    const s = setup({
      rules: { action: 'DENY', policies: { 'block-admin': { permissions: [{ url_path: { path: { prefix: '/admin' } } }], principals: [{ any: true }] } } },
    });
    assert.equal(s.run(makeRequest({}, { path: '/admin/x' }))?.details, 'rbac_access_denied_matched_policy[block-admin]');
    assert.equal(s.run(makeRequest({}, { path: '/public' })), undefined);
    assert.equal(s.stat('rbac.denied'), 1);
    assert.equal(s.stat('rbac.allowed'), 1);
  });

  it('ALLOW with no policies denies everything; DENY with none allows everything', () => {
    assert.equal(setup({ rules: { action: 'ALLOW' } }).run()?.status, 403);
    assert.equal(setup({ rules: { action: 'DENY' } }).run(), undefined);
  });

  it('principals: CIDR, header, not_id, or_ids, authenticated without a name', () => {
    const s = setup({
      rules: {
        policies: {
          a: { permissions: [{ any: true }], principals: [{ direct_remote_ip: { address_prefix: '10.1.0.0', prefix_len: 16 } }] },
          b: { permissions: [{ any: true }], principals: [{ and_ids: { ids: [{ header: { name: 'x-caller', string_match: { exact: 'reviews' } } }, { not_id: { remote_ip: { address_prefix: '10.9.9.9', prefix_len: 32 } } }] } }] },
          c: { permissions: [{ destination_port: 9443 }], principals: [{ authenticated: {} }] },
        },
      },
    });
    assert.equal(s.run(makeRequest(), { remoteIp: '10.1.200.3' }), undefined);
    assert.equal(s.run(makeRequest(), { remoteIp: '::ffff:10.1.0.1' }), undefined, 'IPv4-mapped IPv6 matches an IPv4 range');
    assert.equal(s.run(makeRequest(), { remoteIp: '10.2.0.1' })?.status, 403);
    assert.equal(s.run(makeRequest({ 'x-caller': 'reviews' }), { remoteIp: '10.2.0.1' }), undefined);
    assert.equal(s.run(makeRequest({ 'x-caller': 'reviews' }), { remoteIp: '10.9.9.9' })?.status, 403);
    assert.equal(s.run(makeRequest(), { remoteIp: '10.2.0.1', localPort: 9443, peerPrincipal: 'spiffe://x/ns/a/sa/b' }), undefined);
    assert.equal(s.run(makeRequest(), { remoteIp: '10.2.0.1', localPort: 9443 })?.status, 403);
  });

  it('permissions: or_rules, not_rule, port range, destination_ip (IPv6)', () => {
    const s = setup({
      rules: {
        policies: {
          p: {
            permissions: [{ and_rules: { rules: [
              { or_rules: { rules: [{ destination_port_range: { start: 8000, end: 8100 } }, { destination_ip: { address_prefix: 'fd00::', prefix_len: 8 } }] } },
              { not_rule: { header: { name: ':method', string_match: { exact: 'DELETE' } } } },
            ] } }],
            principals: [{ any: true }],
          },
        },
      },
    });
    assert.equal(s.run(makeRequest(), { localPort: 8099 }), undefined);
    assert.equal(s.run(makeRequest(), { localPort: 8100 })?.status, 403, 'end is exclusive');
    assert.equal(s.run(makeRequest(), { localPort: 1, localIp: 'fd12:3456::1' }), undefined);
    assert.equal(s.run(makeRequest({}, { method: 'DELETE' }), { localPort: 8000 })?.status, 403);
  });

  it('shadow rules are counted but never enforced; no rules means nothing enforced', () => {
    const s = setup({
      shadow_rules: { action: 'ALLOW', policies: { p: { permissions: [{ url_path: { path: { exact: '/ok' } } }], principals: [{ any: true }] } } },
      shadow_rules_stat_prefix: 'dry_run.',
    });
    assert.equal(s.run(makeRequest({}, { path: '/ok' })), undefined);
    assert.equal(s.run(makeRequest({}, { path: '/no' })), undefined);
    assert.equal(s.stat('rbac.dry_run.shadow_allowed'), 1);
    assert.equal(s.stat('rbac.dry_run.shadow_denied'), 1);
    assert.equal(s.stat('rbac.allowed'), 0);
    assert.equal(s.stat('rbac.denied'), 0);
  });

  it('rules_stat_prefix goes after rbac.', () => {
    const s = setup({ rules: { action: 'DENY' }, rules_stat_prefix: 'authz.' });
    s.run();
    assert.equal(s.stat('rbac.authz.allowed'), 1);
  });
});

describe('rbac filter: bad config is rejected with its path', () => {
  const cases: Array<{ name: string; raw: unknown; path: string; reason: RegExp }> = [
    { name: 'LOG action', raw: { rules: { action: 'LOG' } }, path: `${P}.rules.action`, reason: /supported: ALLOW, DENY/ },
    { name: 'unknown field', raw: { rulez: {} }, path: `${P}.rulez`, reason: /unknown field/ },
    { name: 'matcher API', raw: { matcher: {} }, path: `${P}.matcher`, reason: /not supported yet/ },
    {
      name: 'two permission kinds',
      raw: { rules: { policies: { p: { permissions: [{ any: true, destination_port: 80 }], principals: [{ any: true }] } } } },
      path: `${P}.rules.policies.p.permissions[0]`,
      reason: /only one of any, destination_port/,
    },
    {
      name: 'empty permission',
      raw: { rules: { policies: { p: { permissions: [{}], principals: [{ any: true }] } } } },
      path: `${P}.rules.policies.p.permissions[0]`,
      reason: /exactly one of/,
    },
    {
      name: 'unsupported principal field deep in a tree',
      raw: { rules: { policies: { p: { permissions: [{ any: true }], principals: [{ or_ids: { ids: [{ any: true }, { metadata: {} }] } }] } } } },
      path: `${P}.rules.policies.p.principals[0].or_ids.ids[1].metadata`,
      reason: /not supported yet/,
    },
    {
      name: 'bad CIDR',
      raw: { rules: { policies: { p: { permissions: [{ any: true }], principals: [{ direct_remote_ip: { address_prefix: '10.0.0.300', prefix_len: 8 } }] } } } },
      path: `${P}.rules.policies.p.principals[0].direct_remote_ip`,
      reason: /not an IPv4 or IPv6 address/,
    },
    {
      name: 'prefix too long for IPv4',
      raw: { rules: { policies: { p: { permissions: [{ any: true }], principals: [{ remote_ip: { address_prefix: '10.0.0.0', prefix_len: 33 } }] } } } },
      path: `${P}.rules.policies.p.principals[0].remote_ip`,
      reason: /out of range 0-32/,
    },
    {
      name: 'policy without principals',
      raw: { rules: { policies: { p: { permissions: [{ any: true }] } } } },
      path: `${P}.rules.policies.p.principals`,
      reason: /required/,
    },
    {
      name: 'condition',
      raw: { rules: { policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: {} } } } },
      path: `${P}.rules.policies.p.condition`,
      reason: /not supported yet/,
    },
    {
      name: 'bad regex',
      raw: { rules: { policies: { p: { permissions: [{ url_path: { path: { safe_regex: { regex: '(' } } } }], principals: [{ any: true }] } } } },
      path: `${P}.rules.policies.p.permissions[0].url_path.path.safe_regex.regex`,
      reason: /invalid regex/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parseRbacConfig(c.raw, P), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.path, c.path);
        assert.match(err.reason, c.reason);
        return true;
      });
    });
  }
});
