/**
 * Polls `probe` until it gives a value (anything but undefined) and returns it; after `timeoutMs`, fails naming `what`.
 * The one way the whole-system suites wait for something asynchronous (a notification, a worker's step, a status).
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, pollMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
