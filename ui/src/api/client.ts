/**
 * The one way the UI talks to the control plane: fetch with the API token (if
 * any) as a bearer token, JSON in and out, and every failure turned into an
 * ApiFailure carrying the server's Status (reason, field causes).
 */

export interface StatusCause {
  /** Field path in the submitted document, e.g. `spec.backends[0].weight`; '' for the whole request. */
  field: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly causes: StatusCause[] = [],
    readonly reason = '',
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

const TOKEN_KEY = 'weft.apiToken';

export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: no token
  }
}

export function setToken(token: string): void {
  if (token === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

export interface RequestOptions {
  body?: unknown;
  /** Defaults to application/json; `application/yaml` sends `body` (a string) as is. */
  contentType?: string;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const contentType = options.contentType ?? 'application/json';
  const init: RequestInit = { method, headers: { accept: 'application/json', ...authHeaders() }, signal: options.signal ?? null };
  if (options.body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = contentType;
    init.body = typeof options.body === 'string' && contentType !== 'application/json' ? options.body : JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, `${method} ${path}: the control plane is unreachable (${(err as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) throw failureFrom(res.status, method, path, text);
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiFailure(res.status, `${method} ${path}: the answer is not JSON`);
  }
}

function failureFrom(status: number, method: string, path: string, text: string): ApiFailure {
  try {
    const body = JSON.parse(text) as { message?: string; reason?: string; details?: { causes?: StatusCause[] } };
    return new ApiFailure(status, body.message ?? `${method} ${path}: HTTP ${status}`, body.details?.causes ?? [], body.reason ?? '');
  } catch {
    return new ApiFailure(status, `${method} ${path}: HTTP ${status}${text ? ` ${text.slice(0, 200)}` : ''}`);
  }
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => request<T>('GET', path, signal ? { signal } : {});

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
