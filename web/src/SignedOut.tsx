import { useId, useState, type FormEvent, type InputHTMLAttributes } from 'react';
import { api, ApiError, userIdOfToken, type Session } from './api.ts';

/** Sign up (the token is shown once) or sign in by pasting a token. */
export function SignedOut({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Session | null>(null);

  async function signUp(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const { body } = await api.signUp(username.trim());
      setCreated({ id: body.id, username: body.username, token: body.token });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function signIn(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const id = userIdOfToken(token);
    if (!id) {
      setError('That is not a Mini Tweeter token: it starts with mt_ and has three parts.');
      return;
    }
    setBusy(true);
    try {
      const session = { id, username: '', token: token.trim() };
      // The timeline answers only its owner's valid token: the check that the token works.
      await api.timeline(session, null);
      const { body } = await api.profile(id);
      onSignedIn({ ...session, username: body.username });
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That token does not work: it may be mistyped, or its user was deleted.'
          : err instanceof ApiError
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  }

  if (created)
    return (
      <section className="card" aria-labelledby="token-title">
        <h1 id="token-title">Welcome, @{created.username}</h1>
        <p>
          This is your token. It is shown <strong>only this once</strong>: it is how you sign in
          (paste it under “Sign in”) and how other applications act for you. Keep it somewhere safe;
          whoever has it can post as you.
        </p>
        <output className="token" aria-label="Your token">
          {created.token}
        </output>
        <p>
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.token)}>
            Copy token
          </button>{' '}
          <button type="button" onClick={() => onSignedIn(created)}>
            Continue
          </button>
        </p>
      </section>
    );

  return (
    <div className="columns">
      <OneFieldForm
        title="Join Mini Tweeter"
        label="Username"
        value={username}
        onChange={setUsername}
        input={{ autoComplete: 'username', maxLength: 15 }}
        hint="1–15 letters, digits or underscores."
        submit="Sign up"
        busy={busy}
        onSubmit={signUp}
      />
      <OneFieldForm
        title="Already here?"
        label="Token"
        value={token}
        onChange={setToken}
        input={{ autoComplete: 'off', spellCheck: false }}
        hint="The token you were shown when you signed up."
        submit="Sign in"
        busy={busy}
        onSubmit={signIn}
      />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A card with one labelled, required text field, a hint under it and its submit button. */
function OneFieldForm(props: {
  title: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  input: InputHTMLAttributes<HTMLInputElement>;
  hint: string;
  submit: string;
  busy: boolean;
  onSubmit: (e: FormEvent) => Promise<void>;
}) {
  const titleId = useId();
  return (
    <form className="card" onSubmit={(e) => void props.onSubmit(e)} aria-labelledby={titleId}>
      <h1 id={titleId}>{props.title}</h1>
      <label>
        {props.label}
        <input
          {...props.input}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          required
        />
      </label>
      <small>{props.hint}</small>
      <button type="submit" disabled={props.busy}>
        {props.submit}
      </button>
    </form>
  );
}
