import { useCallback, useEffect, useState } from 'react';
import type { Session } from './api.ts';
import { HomePage } from './HomePage.tsx';
import { ProfilePage } from './ProfilePage.tsx';
import { SignedOut } from './SignedOut.tsx';

const sessionKey = 'mini-tweeter-session';

function storedSession(): Session | null {
  try {
    const raw = localStorage.getItem(sessionKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

/** The page for a path: `/` (home) or `/@username` (a profile). */
function routeOf(pathname: string): { page: 'home' } | { page: 'profile'; username: string } {
  const m = /^\/@([A-Za-z0-9_]{1,15})\/?$/.exec(pathname);
  return m ? { page: 'profile', username: m[1]! } : { page: 'home' };
}

/** Moves to `path` without a reload (links of the client call it). */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({ to, children }: { to: string; children: React.ReactNode }) {
  return (
    <a
      href={to}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(storedSession);
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const signIn = useCallback((s: Session) => {
    localStorage.setItem(sessionKey, JSON.stringify(s));
    setSession(s);
  }, []);
  const signOut = useCallback(() => {
    localStorage.removeItem(sessionKey);
    setSession(null);
    navigate('/');
  }, []);
  const route = routeOf(path);
  return (
    <>
      <header className="bar">
        <Link to="/">
          <strong>Mini Tweeter</strong>
        </Link>
        {session && (
          <span className="who">
            <Link to={`/@${session.username}`}>@{session.username}</Link>
            <button type="button" className="quiet" onClick={signOut}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main>
        {route.page === 'profile' ? (
          <ProfilePage key={route.username} username={route.username} session={session} />
        ) : session ? (
          <HomePage session={session} onSignedOut={signOut} />
        ) : (
          <SignedOut onSignedIn={signIn} />
        )}
      </main>
    </>
  );
}
