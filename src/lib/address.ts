/** `host:port`, with an IPv6 address in brackets (`[::1]:8080`), as URLs, gRPC targets and Envoy's stats write it. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
