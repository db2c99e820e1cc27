import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** An open server-sent event stream read by a test, as an EventSource would (Last-Event-ID). */
export interface TestEventStream {
  readonly status: number;
  /** Every event received, in order. */
  readonly events: EventSourceMessage[];
  /** Comment lines received (heartbeats). */
  readonly comments: string[];
  /** The `id` of the last event that had one (what a reconnect sends as Last-Event-ID). */
  readonly lastEventId: string | null;
  /** Resolves when the server ends the stream (or `close` was called). */
  readonly ended: Promise<void>;
  /** Resolves once `predicate` holds for the events received, or rejects after `timeoutMs`. */
  until(predicate: (events: EventSourceMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * Opens `url` as a server-sent event stream with fetch (a bearer token can be sent, which the
 * browser's EventSource cannot), parsing it with eventsource-parser. A non-200 answer resolves
 * with its status and its body as one `error` event.
 */
export async function openEventStream(
  url: string,
  { token, lastEventId }: { token?: string; lastEventId?: string | null } = {},
): Promise<TestEventStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  let last: string | null = lastEventId ?? null;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  let done = false;
  let ended: Promise<void>;
  if (response.status !== 200) {
    done = true;
    events.push({ event: 'error', data: await response.text(), id: undefined });
    ended = Promise.resolve();
  } else {
    const parser = createParser({
      onEvent(message) {
        events.push(message);
        if (message.id !== undefined) last = message.id;
        notify();
      },
      onComment(comment) {
        comments.push(comment);
        notify();
      },
    });
    ended = (async () => {
      const decoder = new TextDecoder();
      try {
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        for (;;) {
          const { done: over, value } = await reader.read();
          if (over) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // Aborted by `close`, or the connection dropped: the stream ended either way.
      }
      done = true;
      notify();
    })();
  }
  return {
    status: response.status,
    events,
    comments,
    get lastEventId() {
      return last;
    },
    ended,
    until(predicate, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(events)) {
            cleanup();
            resolve();
          } else if (done) {
            cleanup();
            reject(new Error(`stream ended before the condition held (${events.length} events)`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms with ${events.length} events`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      abort.abort();
    },
  };
}
