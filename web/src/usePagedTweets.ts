import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Page, type Tweet } from './api.ts';
import { merge, without } from './timeline.ts';

/**
 * A listing of tweets read page by page by cursor (`more` for the next page), kept in timeline
 * order; `add` and `remove` apply changes that arrive otherwise (a post, the live stream), and
 * `reload` reads the first page again and drops what is no longer there.
 */
export function usePagedTweets(load: (cursor: string | null) => Promise<{ body: Page<Tweet> }>) {
  const [tweets, setTweets] = useState<Tweet[]>([]);
  const [loading, setLoading] = useState(false);
  const [end, setEnd] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cursor = useRef<string | null>(null);
  const busy = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;

  const more = useCallback(async () => {
    if (busy.current || (end && cursor.current === null)) return;
    busy.current = true;
    setLoading(true);
    try {
      const { body } = await loadRef.current(cursor.current);
      cursor.current = body.nextCursor;
      setEnd(body.nextCursor === null);
      setTweets((old) => merge(old, body.data));
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [end]);

  const reload = useCallback(async () => {
    try {
      const { body } = await loadRef.current(null);
      cursor.current = body.nextCursor;
      setEnd(body.nextCursor === null);
      setTweets(body.data);
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }, []);

  // The first page, once.
  const first = useRef(more);
  useEffect(() => {
    void first.current();
  }, []);

  return {
    tweets,
    loading,
    end,
    error,
    more,
    reload,
    add: useCallback((t: Tweet[]) => setTweets((old) => merge(old, t)), []),
    remove: useCallback((ids: string[]) => setTweets((old) => without(old, ids)), []),
  };
}
