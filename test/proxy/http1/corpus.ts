/**
 * Request corpus for the strict HTTP/1.1 parser, reused by the proxy's end-to-end tests.
 * `raw` strings are byte strings: send them with `Buffer.from(raw, 'latin1')`.
 *
 * Every MALFORMED_REQUESTS entry is a complete message that fails on its bytes alone
 * (no EOF needed): `status` is what a strict proxy answers before closing the connection,
 * `code` the parser's HttpParseErrorCode.
 */

export interface MalformedRequest {
  name: string;
  raw: string;
  status: number;
  code: string;
}

export interface ExpectedMessage {
  method: string;
  target: string;
  body: string;
}

export interface ValidRequest {
  name: string;
  raw: string;
  expect: ExpectedMessage[];
}

const H = 'Host: example.com\r\n';

function get(headers: string, target = '/'): string {
  return `GET ${target} HTTP/1.1\r\n${H}${headers}\r\n`;
}

function post(headers: string, body: string): string {
  return `POST / HTTP/1.1\r\n${H}${headers}\r\n${body}`;
}

function chunkedPost(body: string): string {
  return post('Transfer-Encoding: chunked\r\n', body);
}

const manyHeaders = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');

export const MALFORMED_REQUESTS: MalformedRequest[] = [
  // Content-Length and Transfer-Encoding together: the classic CL.TE / TE.CL smuggling.
  { name: 'cl and te', raw: post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), status: 400, code: 'content_length_with_transfer_encoding' },
  { name: 'te and cl', raw: post('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', '0\r\n\r\n'), status: 400, code: 'content_length_with_transfer_encoding' },
  { name: 'te gzip and cl', raw: post('Transfer-Encoding: gzip\r\nContent-Length: 5\r\n', 'hello'), status: 400, code: 'content_length_with_transfer_encoding' },
  // Content-Length syntax.
  { name: 'two differing content-lengths', raw: post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'), status: 400, code: 'duplicate_content_length' },
  { name: 'content-length list with differing values', raw: post('Content-Length: 5, 6\r\n', 'hello!'), status: 400, code: 'duplicate_content_length' },
  { name: 'content-length same then list differing', raw: post('Content-Length: 5\r\nContent-Length: 5, 6\r\n', 'hello!'), status: 400, code: 'duplicate_content_length' },
  { name: 'content-length with plus sign', raw: post('Content-Length: +5\r\n', 'hello'), status: 400, code: 'invalid_content_length' },
  { name: 'content-length negative', raw: post('Content-Length: -5\r\n', 'hello'), status: 400, code: 'invalid_content_length' },
  { name: 'content-length hex', raw: post('Content-Length: 0x5\r\n', 'hello'), status: 400, code: 'invalid_content_length' },
  { name: 'content-length inner space', raw: post('Content-Length: 1 0\r\n', 'helloworld'), status: 400, code: 'invalid_content_length' },
  { name: 'content-length empty', raw: post('Content-Length:\r\n', ''), status: 400, code: 'invalid_content_length' },
  { name: 'content-length empty list element', raw: post('Content-Length: 5,\r\n', 'hello'), status: 400, code: 'invalid_content_length' },
  { name: 'content-length beyond safe integer', raw: post('Content-Length: 9007199254740992\r\n', ''), status: 400, code: 'invalid_content_length' },
  { name: 'content-length 20 digits', raw: post('Content-Length: 99999999999999999999\r\n', ''), status: 400, code: 'invalid_content_length' },
  // Transfer-Encoding.
  { name: 'te chunked twice in one header', raw: post('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'), status: 400, code: 'chunked_not_last' },
  { name: 'te chunked in two headers', raw: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), status: 400, code: 'chunked_not_last' },
  { name: 'te chunked then gzip', raw: post('Transfer-Encoding: chunked, gzip\r\n', '0\r\n\r\n'), status: 400, code: 'chunked_not_last' },
  { name: 'te chunked header then gzip header', raw: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n', '0\r\n\r\n'), status: 400, code: 'chunked_not_last' },
  { name: 'te gzip', raw: post('Transfer-Encoding: gzip\r\n', ''), status: 501, code: 'unsupported_transfer_encoding' },
  { name: 'te gzip, chunked', raw: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'), status: 501, code: 'unsupported_transfer_encoding' },
  { name: 'te identity', raw: post('Transfer-Encoding: identity\r\n', ''), status: 501, code: 'unsupported_transfer_encoding' },
  { name: 'te xchunked', raw: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'), status: 501, code: 'unsupported_transfer_encoding' },
  { name: 'te chunkedx', raw: post('Transfer-Encoding: chunkedx\r\n', '0\r\n\r\n'), status: 501, code: 'unsupported_transfer_encoding' },
  { name: 'te chunked with parameter', raw: post('Transfer-Encoding: chunked;q=1\r\n', '0\r\n\r\n'), status: 400, code: 'invalid_transfer_encoding' },
  { name: 'te chunked with trailing junk', raw: post('Transfer-Encoding: chunked x\r\n', '0\r\n\r\n'), status: 400, code: 'invalid_transfer_encoding' },
  { name: 'te quoted chunked', raw: post('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n'), status: 400, code: 'invalid_transfer_encoding' },
  { name: 'te empty', raw: post('Transfer-Encoding:\r\n', ''), status: 400, code: 'invalid_transfer_encoding' },
  { name: 'te empty then folded chunked', raw: post('Transfer-Encoding:\r\n chunked\r\n', '0\r\n\r\n'), status: 400, code: 'invalid_transfer_encoding' },
  { name: 'te folded into previous header', raw: post('X-Foo: bar\r\n Transfer-Encoding: chunked\r\n', '0\r\n\r\n'), status: 400, code: 'obs_fold' },
  { name: 'te space before colon', raw: post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'), status: 400, code: 'whitespace_before_colon' },
  { name: 'te tab before colon', raw: post('Transfer-Encoding\t: chunked\r\n', '0\r\n\r\n'), status: 400, code: 'whitespace_before_colon' },
  { name: 'te name with leading space on first field', raw: `POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n${H}\r\n0\r\n\r\n`, status: 400, code: 'obs_fold' },
  { name: 'te value with vertical tab', raw: post('Transfer-Encoding:\x0bchunked\r\n', '0\r\n\r\n'), status: 400, code: 'invalid_header_value' },
  { name: 'te in http/1.0', raw: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, code: 'transfer_encoding_in_http10' },
  // Line structure.
  { name: 'obs-fold', raw: get('X-Foo: bar\r\n  baz\r\n'), status: 400, code: 'obs_fold' },
  { name: 'bare cr inside value', raw: get('X-Foo: a\rb\r\n'), status: 400, code: 'bare_cr' },
  { name: 'bare cr line ending', raw: `GET / HTTP/1.1\r${H}\r\n`, status: 400, code: 'bare_cr' },
  { name: 'bare lf everywhere', raw: 'GET / HTTP/1.1\nHost: example.com\n\n', status: 400, code: 'bare_lf' },
  { name: 'bare lf after a header', raw: `GET / HTTP/1.1\r\n${H}X-Foo: a\n\r\n`, status: 400, code: 'bare_lf' },
  { name: 'bare lf before request line', raw: `\nGET / HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'bare_lf' },
  { name: 'too many leading empty lines', raw: '\r\n'.repeat(5) + get(''), status: 400, code: 'too_many_empty_lines' },
  // Field names and values.
  { name: 'nul in value', raw: get('X-Foo: a\x00b\r\n'), status: 400, code: 'invalid_header_value' },
  { name: 'nul in name', raw: get('X-F\x00oo: a\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'control byte in value', raw: get('X-Foo: a\x01b\r\n'), status: 400, code: 'invalid_header_value' },
  { name: 'del in value', raw: get('X-Foo: a\x7fb\r\n'), status: 400, code: 'invalid_header_value' },
  { name: 'control byte in name', raw: get('X-\x1bFoo: a\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'space before colon', raw: `GET / HTTP/1.1\r\nHost : example.com\r\n\r\n`, status: 400, code: 'whitespace_before_colon' },
  { name: 'empty field name', raw: get(': value\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'separator in field name', raw: get('X(Foo): a\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'field line without colon', raw: get('X-Foo\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'non-ascii field name', raw: get('X-F\xe9e: a\r\n'), status: 400, code: 'invalid_header_name' },
  { name: 'invalid connection token', raw: get('Connection: close;x\r\n'), status: 400, code: 'invalid_connection_header' },
  // Request line.
  { name: 'method with separator', raw: `G(ET / HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_method' },
  { name: 'method followed by tab', raw: `GET\t/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_method' },
  { name: 'leading space before method', raw: ` GET / HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_method' },
  { name: 'two spaces after method', raw: `GET  / HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'space inside target', raw: `GET /a b HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'non-ascii in target', raw: `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'del in target', raw: `GET /a\x7f HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'missing version', raw: `GET /\r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'lowercase version', raw: `GET / http/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'version with trailing space', raw: `GET / HTTP/1.1 \r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'garbage version', raw: `GET / HTTP/1.x\r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'two-digit version', raw: `GET / HTTP/11\r\n${H}\r\n`, status: 400, code: 'invalid_version' },
  { name: 'http/2.0', raw: `GET / HTTP/2.0\r\n${H}\r\n`, status: 505, code: 'unsupported_version' },
  { name: 'http/1.2', raw: `GET / HTTP/1.2\r\n${H}\r\n`, status: 505, code: 'unsupported_version' },
  { name: 'http/0.9', raw: `GET / HTTP/0.9\r\n${H}\r\n`, status: 505, code: 'unsupported_version' },
  { name: 'oversized request line', raw: get('', '/' + 'a'.repeat(17 * 1024)), status: 414, code: 'request_line_too_long' },
  { name: 'oversized header section', raw: get(`X-Big: ${'b'.repeat(61 * 1024)}\r\n`), status: 431, code: 'header_section_too_large' },
  { name: 'many headers over the byte limit', raw: get(Array.from({ length: 90 }, (_, i) => `X-${i}: ${'v'.repeat(700)}\r\n`).join('')), status: 431, code: 'header_section_too_large' },
  { name: 'too many headers', raw: get(manyHeaders), status: 431, code: 'too_many_headers' },
  // Request-target forms.
  { name: 'absolute-form with userinfo', raw: `GET http://good@evil/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form with empty host', raw: `GET http:///x HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form with quote in host', raw: `GET http://ev"il/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form with bad port', raw: `GET http://evil:99999/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form with backslash', raw: `GET http://evil\\@good/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form other scheme', raw: `GET ftp://evil/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'absolute-form single slash', raw: `GET http:/evil/ HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'network-path target', raw: `GET //evil/x HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'relative target', raw: `GET x HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'fragment in origin-form', raw: `GET /admin#/../public HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'fragment in absolute-form', raw: `GET http://example.com/x#y HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'empty fragment', raw: `GET /# HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'asterisk with get', raw: `GET * HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'authority-form with get', raw: `GET example.com:80 HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'connect with origin-form', raw: `CONNECT / HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'connect without port', raw: `CONNECT example.com HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'invalid_request_target' },
  { name: 'connect with body', raw: `CONNECT example.com:443 HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, status: 400, code: 'connect_with_body' },
  // Host.
  { name: 'missing host', raw: 'GET / HTTP/1.1\r\n\r\n', status: 400, code: 'missing_host' },
  { name: 'missing host with absolute-form', raw: 'GET http://example.com/ HTTP/1.1\r\n\r\n', status: 400, code: 'missing_host' },
  { name: 'two hosts', raw: get('Host: evil.com\r\n'), status: 400, code: 'duplicate_host' },
  { name: 'two identical hosts', raw: get(H), status: 400, code: 'duplicate_host' },
  { name: 'host with space', raw: 'GET / HTTP/1.1\r\nHost: example.com evil.com\r\n\r\n', status: 400, code: 'invalid_host' },
  { name: 'host with slash', raw: 'GET / HTTP/1.1\r\nHost: example.com/evil\r\n\r\n', status: 400, code: 'invalid_host' },
  { name: 'host with userinfo', raw: 'GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n', status: 400, code: 'invalid_host' },
  { name: 'host with empty port', raw: 'GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n', status: 400, code: 'invalid_host' },
  // Chunked body.
  { name: 'chunk size not hex', raw: chunkedPost('zz\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_size' },
  { name: 'chunk size negative', raw: chunkedPost('-5\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_size' },
  { name: 'chunk size with 0x prefix', raw: chunkedPost('0x5\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_size' },
  { name: 'chunk size empty', raw: chunkedPost('\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_size' },
  { name: 'chunk size leading space', raw: chunkedPost(' 5\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_size' },
  { name: 'chunk size 16 hex digits', raw: chunkedPost('1000000000000000\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'chunk_size_overflow' },
  { name: 'chunk size 16 digits with leading zeros', raw: chunkedPost('0000000000000005\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'chunk_size_overflow' },
  { name: 'chunk size beyond safe integer', raw: chunkedPost('fffffffffffffff\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'chunk_size_overflow' },
  { name: 'chunk size trailing space', raw: chunkedPost('5 \r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_extension' },
  { name: 'chunk extension without name', raw: chunkedPost('5;=x\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_extension' },
  { name: 'chunk extension unterminated quote', raw: chunkedPost('5;a="x\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_extension' },
  { name: 'chunk extension with bare lf', raw: chunkedPost('5;a\nb\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'bare_lf' },
  { name: 'missing crlf after chunk data', raw: chunkedPost('5\r\nhelloX\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_data_end' },
  { name: 'chunk data longer than its size', raw: chunkedPost('3\r\nhello\r\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_data_end' },
  { name: 'chunk data ended by bare lf', raw: chunkedPost('5\r\nhello\n0\r\n\r\n'), status: 400, code: 'invalid_chunk_data_end' },
  { name: 'trailer with space before colon', raw: chunkedPost('5\r\nhello\r\n0\r\nX-T : v\r\n\r\n'), status: 400, code: 'whitespace_before_colon' },
  { name: 'trailer with obs-fold', raw: chunkedPost('0\r\nX-T: v\r\n  w\r\n\r\n'), status: 400, code: 'obs_fold' },
  // The smuggled second request must not be reached: the first one already fails.
  { name: 'smuggled request after cl.te', raw: post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\nGET /admin HTTP/1.1\r\n${H}\r\n`), status: 400, code: 'content_length_with_transfer_encoding' },
];

export const VALID_REQUESTS: ValidRequest[] = [
  { name: 'simple get', raw: get(''), expect: [{ method: 'GET', target: '/', body: '' }] },
  {
    name: 'pipelined gets',
    raw: get('', '/a') + get('', '/b?x=1'),
    expect: [
      { method: 'GET', target: '/a', body: '' },
      { method: 'GET', target: '/b?x=1', body: '' },
    ],
  },
  {
    name: 'pipelined post then get',
    raw: post('Content-Length: 5\r\n', 'hello') + get('', '/next'),
    expect: [
      { method: 'POST', target: '/', body: 'hello' },
      { method: 'GET', target: '/next', body: '' },
    ],
  },
  {
    name: 'chunked with extensions and trailers',
    raw: chunkedPost('5;name=value;flag\r\nhello\r\n6 ; q="a \\"quoted\\" ext"\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other:  x \r\n\r\n'),
    expect: [{ method: 'POST', target: '/', body: 'hello world' }],
  },
  {
    name: 'chunked then pipelined get',
    raw: chunkedPost('A\r\n0123456789\r\n0\r\n\r\n') + get('', '/after'),
    expect: [
      { method: 'POST', target: '/', body: '0123456789' },
      { method: 'GET', target: '/after', body: '' },
    ],
  },
  { name: 'chunked coding is case-insensitive with ows', raw: post('Transfer-Encoding:  Chunked \r\n', '3\r\nabc\r\n0\r\n\r\n'), expect: [{ method: 'POST', target: '/', body: 'abc' }] },
  { name: 'chunk size with leading zeros', raw: chunkedPost('0005\r\nhello\r\n00\r\n\r\n'), expect: [{ method: 'POST', target: '/', body: 'hello' }] },
  { name: 'leading crlf', raw: '\r\n\r\n' + get(''), expect: [{ method: 'GET', target: '/', body: '' }] },
  { name: 'http/1.0 without host', raw: 'GET /old HTTP/1.0\r\n\r\n', expect: [{ method: 'GET', target: '/old', body: '' }] },
  { name: 'http/1.0 with body', raw: 'POST /old HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc', expect: [{ method: 'POST', target: '/old', body: 'abc' }] },
  { name: 'absolute-form', raw: get('', 'http://example.com:8080/p?q=1'), expect: [{ method: 'GET', target: 'http://example.com:8080/p?q=1', body: '' }] },
  { name: 'absolute-form https without path', raw: get('', 'HTTPS://example.com'), expect: [{ method: 'GET', target: 'HTTPS://example.com', body: '' }] },
  { name: 'absolute-form ipv6', raw: get('', 'http://[::1]:80/'), expect: [{ method: 'GET', target: 'http://[::1]:80/', body: '' }] },
  { name: 'options asterisk', raw: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, expect: [{ method: 'OPTIONS', target: '*', body: '' }] },
  { name: 'connect authority-form', raw: `CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`, expect: [{ method: 'CONNECT', target: 'example.com:443', body: '' }] },
  { name: 'content-length zero', raw: post('Content-Length: 0\r\n', '') + get(''), expect: [{ method: 'POST', target: '/', body: '' }, { method: 'GET', target: '/', body: '' }] },
  { name: 'identical duplicate content-length', raw: post('Content-Length: 3\r\nContent-Length: 3\r\n', 'abc'), expect: [{ method: 'POST', target: '/', body: 'abc' }] },
  { name: 'identical content-length list', raw: post('Content-Length: 3 , 3,3\r\n', 'abc'), expect: [{ method: 'POST', target: '/', body: 'abc' }] },
  { name: 'extension method', raw: `PURGE /cache/x HTTP/1.1\r\n${H}\r\n`, expect: [{ method: 'PURGE', target: '/cache/x', body: '' }] },
  { name: 'obs-text and tabs in values', raw: get('X-Name: caf\xe9\tau lait\r\nX-Empty:\r\nX-Spaces:   \r\n'), expect: [{ method: 'GET', target: '/', body: '' }] },
  { name: 'loose query characters', raw: get('', '/search?q=a|b&r={x}&s="y"'), expect: [{ method: 'GET', target: '/search?q=a|b&r={x}&s="y"', body: '' }] },
  { name: 'empty host with origin-form', raw: 'GET / HTTP/1.1\r\nHost:\r\n\r\n', expect: [{ method: 'GET', target: '/', body: '' }] },
];
