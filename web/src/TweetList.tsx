import { useEffect, useRef } from 'react';
import type { Session, Tweet } from './api.ts';
import { Link } from './App.tsx';

const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Tweets as a feed of articles (role `feed`, named by `label`), with Delete on the signed-in
 * user's own, and infinite scroll: `onMore` runs when the end of the list comes into view.
 */
export function TweetList({
  label,
  tweets,
  session,
  onDelete,
  onMore,
  loading,
  end,
}: {
  label: string;
  tweets: Tweet[];
  session: Session | null;
  onDelete: (id: string) => void;
  onMore: () => void;
  loading: boolean;
  end: boolean;
}) {
  const sentinel = useRef<HTMLDivElement>(null);
  const more = useRef(onMore);
  more.current = onMore;
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) more.current();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return (
    <>
      <section role="feed" aria-label={label} aria-busy={loading}>
        {tweets.map((t, i) => (
          <article
            key={t.id}
            aria-posinset={i + 1}
            aria-setsize={end ? tweets.length : -1}
            aria-labelledby={`by-${t.id}`}
          >
            <header>
              <span id={`by-${t.id}`}>
                <strong>{t.author.displayName}</strong>{' '}
                <Link to={`/@${t.author.username}`}>@{t.author.username}</Link>
              </span>{' '}
              <time dateTime={t.createdAt}>{when(t.createdAt)}</time>
            </header>
            <p className="text">{t.text}</p>
            {session?.id === t.authorId && (
              <button type="button" className="quiet" onClick={() => onDelete(t.id)}>
                Delete
              </button>
            )}
          </article>
        ))}
      </section>
      <div ref={sentinel} className="sentinel">
        {loading
          ? 'Loading…'
          : end
            ? tweets.length === 0
              ? 'Nothing here yet.'
              : 'That’s all.'
            : ''}
      </div>
    </>
  );
}
