import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Profile, type Session } from './api.ts';
import { TweetList } from './TweetList.tsx';
import { usePagedTweets } from './usePagedTweets.ts';

/** Whether `viewer` follows `targetId`, from the viewer's following list (paged, bounded). */
async function follows(viewer: Session, targetId: string): Promise<boolean> {
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const { body } = await api.following(viewer.id, cursor);
    if (body.data.some((u) => u.id === targetId)) return true;
    if (!body.nextCursor) return false;
    cursor = body.nextCursor;
  }
  return false;
}

/** `/@username`: the profile, its counters and tweets, and Follow/Unfollow for someone signed in. */
export function ProfilePage({ username, session }: { username: string; session: Session | null }) {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [missing, setMissing] = useState(false);
  const [following, setFollowing] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const { body } = await api.profileByName(username);
      setProfile(body);
      if (session && session.id !== body.id) setFollowing(await follows(session, body.id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
      else setError(err instanceof ApiError ? err.message : String(err));
    }
  }, [username, session]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (missing) return <p className="card">There is no @{username}.</p>;
  if (!profile) return error ? <p role="alert">{error}</p> : <p className="card">Loading…</p>;
  return (
    <ProfileView
      profile={profile}
      session={session}
      following={following}
      busy={busy}
      error={error}
      onToggle={async () => {
        if (!session) return;
        setBusy(true);
        setError(null);
        try {
          if (following) await api.unfollow(session, profile.id);
          else await api.follow(session, profile.id);
          setFollowing(!following);
          const { body } = await api.profile(profile.id);
          setProfile(body);
        } catch (err) {
          setError(err instanceof ApiError ? err.message : String(err));
        } finally {
          setBusy(false);
        }
      }}
    />
  );
}

function ProfileView({
  profile,
  session,
  following,
  busy,
  error,
  onToggle,
}: {
  profile: Profile;
  session: Session | null;
  following: boolean | null;
  busy: boolean;
  error: string | null;
  onToggle: () => Promise<void>;
}) {
  const tweets = usePagedTweets((cursor) => api.tweetsOf(profile.id, cursor));
  const own = session?.id === profile.id;
  return (
    <>
      <section className="card profile" aria-labelledby="profile-name">
        <h1 id="profile-name">{profile.displayName}</h1>
        <p className="muted">@{profile.username}</p>
        {profile.bio && <p>{profile.bio}</p>}
        <dl className="counters">
          <div>
            <dt>Tweets</dt>
            <dd>{profile.tweetCount}</dd>
          </div>
          <div>
            <dt>Following</dt>
            <dd>{profile.followingCount}</dd>
          </div>
          <div>
            <dt>Followers</dt>
            <dd>{profile.followersCount}</dd>
          </div>
        </dl>
        {session && !own && following !== null && (
          <button type="button" disabled={busy} onClick={() => void onToggle()}>
            {following ? 'Unfollow' : 'Follow'}
          </button>
        )}
        {!session && <p className="muted">Sign in to follow @{profile.username}.</p>}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </section>
      <TweetList
        label={`Tweets by @${profile.username}`}
        tweets={tweets.tweets}
        session={session}
        onDelete={(id) =>
          void (session && api.deleteTweet(session, id).then(() => tweets.remove([id])))
        }
        onMore={() => void tweets.more()}
        loading={tweets.loading}
        end={tweets.end}
      />
    </>
  );
}
