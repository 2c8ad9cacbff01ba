/** Reads `event: presence` (or another named event's) records from a Server-Sent Events response, one at a time (tests and bench). */
export interface PresenceEvent {
  readonly userId: string;
  readonly status: string;
  readonly [field: string]: unknown;
}

export function sseEvents(res: Response, event = 'presence'): { next: (timeoutMs?: number) => Promise<PresenceEvent>; close: () => Promise<void> } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const read = async (): Promise<PresenceEvent> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const record = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = record.split('\n').find((l) => l.startsWith('data: '));
        if (record.split('\n').includes(`event: ${event}`) && data) return JSON.parse(data.slice(6)) as PresenceEvent;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return {
    next: (timeoutMs = 20_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no SSE event within ${timeoutMs} ms`)), timeoutMs);
      });
      return Promise.race([read(), timeout]).finally(() => clearTimeout(timer));
    },
    close: () => reader.cancel().catch(() => undefined),
  };
}
