import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from '../../../src/controlplane/metrics/prometheus-text.js';
import { redactSecrets, REDACTED } from '../../../src/controlplane/api/redact.js';

test('parsePrometheusText keeps the asked families, unescapes labels and skips what it cannot read', () => {
  const text = [
    '# HELP weft_requests_total Requests.',
    '# TYPE weft_requests_total counter',
    'weft_requests_total{reporter="source",destination_service="a\\"b\\\\c\\nd",response_code="200"} 3',
    'weft_requests_total{broken="x} 1',
    'envoy_cluster_upstream_rq_total{envoy_cluster_name="x"} 9',
    'weft_request_duration_seconds_bucket{le="+Inf"} 4',
    'weft_requests_total 2 1700000000000',
    '',
  ].join('\n');
  const samples = parsePrometheusText(text, new Set(['weft_requests_total', 'weft_request_duration_seconds_bucket']));
  assert.deepEqual(samples, [
    { name: 'weft_requests_total', labels: { reporter: 'source', destination_service: 'a"b\\c\nd', response_code: '200' }, value: 3 },
    { name: 'weft_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: 4 },
    { name: 'weft_requests_total', labels: {}, value: 2 },
  ]);
});

test('redactSecrets hides private keys and other secrets at any depth, keeps the rest', () => {
  const dump = {
    configs: [{
      '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
      dynamic_active_secrets: [{
        name: 'default',
        secret: { tls_certificate: { certificate_chain: { inline_string: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }, private_key: { inline_string: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----' } } },
      }],
      static_secrets: [{ name: 'hmac', secret: { generic_secret: { secret: { inline_string: 'shh' } } } }],
    }, { listeners: [{ name: 'l', note: '-----BEGIN EC PRIVATE KEY----- pasted' }] }],
  };
  const redacted = JSON.stringify(redactSecrets(dump));
  assert.doesNotMatch(redacted, /PRIVATE KEY|MIIE|shh/);
  assert.match(redacted, /BEGIN CERTIFICATE/);
  assert.equal(JSON.parse(redacted).configs[0].dynamic_active_secrets[0].secret.tls_certificate.private_key, REDACTED);
});
