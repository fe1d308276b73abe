/**
 * The demo tools' one way to call CareCircle: plain HTTP with a bearer token, JSON in and out. A refusal becomes a
 * {@link ApiError} whose message says which request failed and what the server said, so a tool can print one line.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** Extra headers, e.g. If-None-Exist. */
  headers?: Record<string, string>;
  /** Statuses answered as results rather than thrown (e.g. 404 while looking something up). */
  accept?: readonly number[];
}

/** A client for `baseUrl` calling as `token`. */
export function carecircleApi(baseUrl: string, token: string) {
  async function call<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json, application/json' };
    if (options.body !== undefined) {
      headers['Content-Type'] = path.startsWith('/fhir/') ? 'application/fhir+json' : 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...headers, ...options.headers },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, `CareCircle does not answer at ${baseUrl} (${cause}): start it with \`npm start\` first`);
    }
    const text = await response.text();
    const body = (text ? JSON.parse(text) : undefined) as T;
    if (!response.ok && !(options.accept ?? []).includes(response.status)) {
      throw new ApiError(response.status, `${method} ${path} answered ${response.status}: ${explain(body)}`);
    }
    return { status: response.status, body, headers: response.headers };
  }
  return {
    get: <T>(path: string, options?: RequestOptions) => call<T>('GET', path, options),
    post: <T>(path: string, body: unknown, options?: RequestOptions) => call<T>('POST', path, { ...options, body }),
    put: <T>(path: string, body: unknown, options?: RequestOptions) => call<T>('PUT', path, { ...options, body }),
    patch: <T>(path: string, body: unknown, options?: RequestOptions) => call<T>('PATCH', path, { ...options, body }),
  };
}

export type CareCircleApi = ReturnType<typeof carecircleApi>;

/** What an error body says: an OperationOutcome's diagnostics, an OAuth error, or the raw text. */
function explain(body: unknown): string {
  const outcome = body as OperationOutcome | undefined;
  if (outcome?.resourceType === 'OperationOutcome') {
    return (outcome.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ');
  }
  const oauth = body as { error?: string; error_description?: string } | undefined;
  if (oauth?.error) {
    return `${oauth.error}${oauth.error_description ? `: ${oauth.error_description}` : ''}`;
  }
  return JSON.stringify(body);
}
