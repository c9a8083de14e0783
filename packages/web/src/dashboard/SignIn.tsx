import { useState, type FormEvent, type ReactNode } from 'react';
import { DashboardError } from './api.ts';
import { errorText, useDash } from './context.tsx';

/** The sign-in form: the admin key, posted once; the browser keeps only the HttpOnly cookie and this tab the CSRF token. */
export function SignIn({ reason, onSignedIn, prefs }: { reason: string | undefined; onSignedIn: () => Promise<void>; prefs: ReactNode }) {
    const { api, t } = useDash();
    const [key, setKey] = useState('');
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState<string | undefined>(reason);

    const submit = async (e: FormEvent) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
            await api.signIn(key);
            setKey('');
            await onSignedIn();
        } catch (err) {
            if (err instanceof DashboardError && err.code === 'dashboard_sign_in_failed') setError(t('errWrongKey'));
            else if (err instanceof DashboardError && err.code === 'admin_key_required') setError(t('errAppKey'));
            else setError(errorText(t, err));
        } finally {
            setBusy(false);
        }
    };

    return (
        <main className="db-signin">
            <div className="db-signin-top">{prefs}</div>
            <form className="db-card db-signin-card" onSubmit={submit}>
                <h1>{t('signInTitle')}</h1>
                <p className="db-muted">{t('signInIntro')}</p>
                <label className="db-field">
                    <span>{t('adminKey')}</span>
                    <input
                        type="password"
                        autoComplete="current-password"
                        value={key}
                        onChange={(e) => setKey(e.target.value)}
                        required
                        data-testid="admin-key"
                    />
                </label>
                {error ? (
                    <p className="db-error" role="alert">
                        {error}
                    </p>
                ) : null}
                <button type="submit" className="db-button db-primary" disabled={busy || !key} data-testid="sign-in">
                    {busy ? t('signingIn') : t('signIn')}
                </button>
            </form>
        </main>
    );
}
