import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { AccessLogEntry } from '../../../src/proxy/observe/access-log-entry.js';
import { compileAccessLogFormat, compileFormat, compileJsonFormat } from '../../../src/proxy/observe/format.js';
import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import { ConfigError } from '../../../src/lib/errors.js';

function fullEntry(): AccessLogEntry {
  const e = new AccessLogEntry();
  e.startTimeMs = Date.UTC(2024, 1, 29, 7, 8, 9, 45); // a leap day: day of year 060
  e.protocol = 'HTTP/1.1';
  e.method = 'GET';
  e.path = '/api/items?id=1';
  e.authority = 'shop.local:8080';
  e.userAgent = 'curl/8.0';
  e.requestId = 'req-1';
  e.forwardedFor = '10.0.0.9';
  e.remoteAddress = '10.0.0.1:51234';
  e.localAddress = '[::1]:10000';
  e.responseCode = 503;
  e.responseCodeDetails = 'upstream_reset_before_response_started';
  e.responseFlags = 'UF,URX';
  e.bytesReceived = 12;
  e.bytesSent = 345;
  e.durationMs = 17.9;
  e.requestDurationMs = 1.2;
  e.responseDurationMs = 15.5;
  e.upstreamServiceTimeMs = 14;
  e.upstreamHost = '10.1.0.5:9000';
  e.upstreamCluster = 'backend';
  e.upstreamLocalAddress = '10.1.0.1:40000';
  e.routeName = 'items';
  e.upstreamTransportFailureReason = 'connection refused';
  e.connectionId = 42;
  e.attempts = 2;
  e.requestHeaders = HeaderMap.fromRaw(['X-Custom', 'abcdefgh', 'x-alt', 'alt-value']);
  e.responseHeaders = HeaderMap.fromRaw(['Content-Type', 'text/plain']);
  e.responseTrailers = HeaderMap.fromRaw(['grpc-status', '14']);
  return e;
}

test('every command operator renders in text', () => {
  const cases: Array<[string, string]> = [
    ['%START_TIME%', '2024-02-29T07:08:09.045Z'],
    ['%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%', '2024-02-29T07:08:09.045Z'],
    ['%START_TIME(%y|%e|%j|%s|%z|%Z|%6f|%f|%1f|%%)%', `24|29|060|${Date.UTC(2024, 1, 29, 7, 8, 9) / 1000}|+0000|UTC|045000|045000000|0|%`],
    ['%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %REQ(HOST)% %REQ(:SCHEME)%', 'GET /api/items?id=1 shop.local:8080 shop.local:8080 http'],
    ['%REQ(USER-AGENT)% %REQ(X-REQUEST-ID)% %REQ(X-FORWARDED-FOR)%', 'curl/8.0 req-1 10.0.0.9'],
    ['%REQ(X-CUSTOM)% %REQ(x-custom):3% %REQ(X-MISSING?X-ALT)% %REQ(X-MISSING)%', 'abcdefgh abc alt-value -'],
    ['%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', '/api/items?id=1'],
    ['%RESP(CONTENT-TYPE)% %RESP(CONTENT-TYPE):4% %RESP(:STATUS)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%', 'text/plain text 503 14'],
    ['%TRAILER(GRPC-STATUS)% %TRAILER(GRPC-MESSAGE?GRPC-STATUS)%', '14 14'],
    ['%PROTOCOL% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%', 'HTTP/1.1 503 upstream_reset_before_response_started UF,URX'],
    ['%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %REQUEST_DURATION% %RESPONSE_DURATION%', '12 345 17 1 15'],
    ['%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS%', '10.1.0.5:9000 backend 10.1.0.1:40000'],
    ['%UPSTREAM_TRANSPORT_FAILURE_REASON%', 'connection refused'],
    ['%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', '10.0.0.1:51234 10.0.0.1'],
    ['%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%', '[::1]:10000 ::1'],
    ['%ROUTE_NAME% %CONNECTION_ID% %UPSTREAM_REQUEST_ATTEMPT_COUNT%', 'items 42 2'],
    ['%HOSTNAME%', hostname()],
    ['100%% done', '100% done'],
    ['plain', 'plain'],
    ['%DURATION%:3', '17:3'],
  ];
  const entry = fullEntry();
  for (const [template, expected] of cases) assert.equal(compileFormat(template, 'f')(entry), `${expected}\n`, template);
});

test('text keeps a trailing newline and prints - for missing values', () => {
  const empty = new AccessLogEntry();
  empty.protocol = 'TCP';
  const line = compileFormat(
    '[%PROTOCOL%] %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %REQ(:METHOD)% %RESP(X)% %TRAILER(X)% %REQUEST_DURATION% %RESPONSE_DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_REQUEST_ATTEMPT_COUNT%\n',
    'f',
  )(empty);
  assert.equal(line, '[-] 0 - - - - - - - - - 0\n');
});

test('JSON: single operators keep their type, missing is null, mixed templates are strings', () => {
  const format = compileJsonFormat(
    {
      code: '%RESPONSE_CODE%',
      duration: '%DURATION%',
      rx: '%BYTES_RECEIVED%',
      tx: '%BYTES_SENT%',
      attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
      flags: '%RESPONSE_FLAGS%',
      mixed: 'code=%RESPONSE_CODE% host=%UPSTREAM_HOST%',
      literal: 'v1 "quoted"',
      header: '%REQ(X-CUSTOM)%',
    },
    'json',
  );
  const full = fullEntry();
  full.upstreamHost = '';
  const line = format(full);
  assert.ok(line.endsWith('}\n'));
  assert.deepEqual(JSON.parse(line), {
    code: 503,
    duration: 17,
    rx: 12,
    tx: 345,
    attempts: 2,
    flags: 'UF,URX',
    mixed: 'code=503 host=-',
    literal: 'v1 "quoted"',
    header: 'abcdefgh',
  });
  assert.deepEqual(JSON.parse(format(new AccessLogEntry())), {
    code: 0,
    duration: 0,
    rx: 0,
    tx: 0,
    attempts: 0,
    flags: null,
    mixed: 'code=0 host=-',
    literal: 'v1 "quoted"',
    header: null,
  });
});

test('default format: Envoy default keys as JSON', () => {
  const format = compileAccessLogFormat({}, 'access_log[0]');
  const record = JSON.parse(format(fullEntry())) as Record<string, unknown>;
  assert.deepEqual(record, {
    start_time: '2024-02-29T07:08:09.045Z',
    method: 'GET',
    path: '/api/items?id=1',
    protocol: 'HTTP/1.1',
    response_code: 503,
    response_flags: 'UF,URX',
    response_code_details: 'upstream_reset_before_response_started',
    bytes_received: 12,
    bytes_sent: 345,
    duration: 17,
    upstream_service_time: '14',
    x_forwarded_for: '10.0.0.9',
    user_agent: 'curl/8.0',
    request_id: 'req-1',
    authority: 'shop.local:8080',
    upstream_host: '10.1.0.5:9000',
    upstream_cluster: 'backend',
    route_name: 'items',
    downstream_remote_address: '10.0.0.1:51234',
  });
  assert.equal(compileAccessLogFormat({ textFormat: '%RESPONSE_CODE%' }, 'a')(fullEntry()), '503\n');
});

test('bad templates are ConfigErrors with the field path', () => {
  const bad: Array<[string, RegExp]> = [
    ['%NOT_AN_OPERATOR%', /unknown command operator %NOT_AN_OPERATOR%/],
    ['%constructor%', /malformed command operator/],
    ['%RESPONSE_CODE', /malformed command operator/],
    ['%REQ()%', /needs a header name/],
    ['%REQ%', /needs a header name/],
    ['%REQ(A?B?C)%', /needs a header name/],
    ['%DURATION(x)%', /takes no argument/],
    ['%BYTES_SENT:3%', /does not take a max length/],
    ['%START_TIME(%Q)%', /unsupported time specifier '%Q'/],
  ];
  for (const [template, reason] of bad) {
    assert.throws(
      () => compileFormat(template, 'listeners[0].access_log[0]'),
      (err: unknown) => err instanceof ConfigError && err.path === 'listeners[0].access_log[0]' && reason.test(err.reason),
      template,
    );
  }
  assert.throws(
    () => compileJsonFormat({ ok: '%DURATION%', broken: '%NOPE%' }, 'a.json_format'),
    (err: unknown) => err instanceof ConfigError && err.path === 'a.json_format.broken',
  );
});
