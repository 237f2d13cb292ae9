/** The few control-plane calls the demo makes, as a user would with curl. */
export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly orgId: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'x-org-id': this.orgId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = json as { code?: string; message?: string } | undefined;
      throw new Error(`${method} ${path} → ${res.status} ${err?.code ?? ''}: ${err?.message ?? text}`.trim());
    }
    return json as T;
  }
}
