import { createParser } from 'eventsource-parser';
import type { Session, Tweet } from './api.ts';

export interface StreamHandlers {
  update(tweet: Tweet): void;
  remove(ids: string[]): void;
  /** The timeline must be read again (the server said so, or the stream was away too long). */
  resync(): void;
  /** The stream is open: what arrived before it opened is on the first page, read it again. */
  opened(): void;
}

/**
 * Follows the home timeline's stream (`GET /users/{id}/timeline/stream`) with fetch, since the
 * browser's EventSource cannot send a bearer token, and eventsource-parser to read it. Reconnects
 * by itself after a drop (1 s, doubling to 15 s) with Last-Event-ID, so nothing is missed and
 * nothing comes twice. Returns the function that stops it.
 */
export function followTimeline(session: Session, handlers: StreamHandlers): () => void {
  const abort = new AbortController();
  let lastEventId: string | null = null;
  let delay = 1000;
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const headers: Record<string, string> = {
          accept: 'text/event-stream',
          authorization: `Bearer ${session.token}`,
        };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const response = await fetch(`/api/query/users/${session.id}/timeline/stream`, {
          headers,
          signal: abort.signal,
        });
        if (response.status === 401 || response.status === 403) return;
        if (response.ok && response.body) {
          delay = 1000;
          if (lastEventId === null) handlers.opened();
          const parser = createParser({
            onEvent(message) {
              if (message.id) lastEventId = message.id;
              if (message.event === 'update') handlers.update(JSON.parse(message.data) as Tweet);
              else if (message.event === 'delete')
                handlers.remove((JSON.parse(message.data) as { ids: string[] }).ids);
              else if (message.event === 'resync') handlers.resync();
            },
          });
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  };
  void run();
  return () => abort.abort();
}
