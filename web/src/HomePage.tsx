import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, maxTweetLength, tweetLength, type Session } from './api.ts';
import { followTimeline } from './stream.ts';
import { TweetList } from './TweetList.tsx';
import { usePagedTweets } from './usePagedTweets.ts';

/** The signed-in home: compose, then the home timeline, live. */
export function HomePage({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const timeline = usePagedTweets((cursor) => api.timeline(session, cursor));
  const { add, remove, reload } = timeline;
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [posting, setPosting] = useState(false);

  // New tweets of the people followed arrive without a reload; a resync reads the page again.
  useEffect(
    () =>
      followTimeline(session, {
        update: (t) => add([t]),
        remove,
        resync: () => void reload(),
        opened: () =>
          void api.timeline(session, null).then(
            ({ body }) => add(body.data),
            () => {},
          ),
      }),
    [session, add, remove, reload],
  );

  useEffect(() => {
    if (timeline.error?.includes('token')) onSignedOut();
  }, [timeline.error, onSignedOut]);

  const length = tweetLength(text);
  const blank = text.trim().length === 0;

  async function post(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setPosting(true);
    try {
      const { body } = await api.post(session, text);
      // Shown at once, then the first page read again past the post (read-your-writes).
      add([
        {
          ...body,
          author: { id: session.id, username: session.username, displayName: session.username },
        },
      ]);
      setText('');
      const fresh = await api.timeline(session, null);
      add(fresh.body.data);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setPosting(false);
    }
  }

  async function deleteTweet(id: string) {
    setError(null);
    try {
      await api.deleteTweet(session, id);
      remove([id]);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  return (
    <>
      <form className="card compose" onSubmit={(e) => void post(e)}>
        <textarea
          aria-label="What's happening?"
          placeholder="What's happening?"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={3}
        />
        <div className="row">
          <span
            className={length > maxTweetLength ? 'count over' : 'count'}
            aria-live="polite"
            aria-label={`${length} of ${maxTweetLength} characters`}
          >
            {length}/{maxTweetLength}
          </span>
          <button type="submit" disabled={posting || blank || length > maxTweetLength}>
            Post
          </button>
        </div>
      </form>
      {(error ?? timeline.error) && (
        <p role="alert" className="error">
          {error ?? timeline.error}
        </p>
      )}
      <TweetList
        label="Home timeline"
        tweets={timeline.tweets}
        session={session}
        onDelete={(id) => void deleteTweet(id)}
        onMore={() => void timeline.more()}
        loading={timeline.loading}
        end={timeline.end}
      />
    </>
  );
}
