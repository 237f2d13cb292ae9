/** An error's message for logs: never the error object, whose fields could carry request data. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
}
