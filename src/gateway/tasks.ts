/** Where an asynchronous task is followed, as returned at submission and in its status. */
export function taskLinks(taskId: string) {
  return { self: `/v1/tasks/${taskId}`, events: `/v1/tasks/${taskId}/events`, cancel: `/v1/tasks/${taskId}/cancel`, execution: `/v1/executions/${taskId}` };
}

/**
 * Webhooks go only to origins an operator listed (scheme, host and port exactly, e.g. "http://10.0.0.5:8443"):
 * the gateway must not become a way to reach arbitrary hosts inside the network.
 */
export function webhookAllowed(allow: readonly string[], url: string): boolean {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  return allow.some((allowed) => allowed === origin);
}
