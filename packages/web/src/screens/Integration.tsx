import { useRef, useState, type FormEvent } from 'react';
import type { Session } from '../api.ts';
import type { Translate } from '../i18n.ts';
import { Heading, Logo } from '../ui.tsx';
import { flowOf, formFields, validate, type AwsVariant, type FormField } from '../fields.ts';
import { messageKey, type UiError } from '../errors.ts';
import type { Item } from '../model.ts';

export interface Submission {
    credentials: Record<string, string>;
    params: Record<string, string>;
}

interface Props {
    t: Translate;
    item: Item;
    session: Session | undefined;
    reconnecting: boolean;
    error: UiError | undefined;
    busy: boolean;
    onSubmit: (s: Submission) => void;
}

function FieldInput({ t, f, value, error, onChange }: { t: Translate; f: FormField; value: string; error: string | undefined; onChange: (v: string) => void }) {
    const [reveal, setReveal] = useState(false);
    const id = `sb-${f.id.replace('.', '-')}`;
    const described = [f.description ? `${id}-desc` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
    return (
        <div className="sb-field">
            <label htmlFor={id} className="sb-label">
                {f.label}
                {!f.required && <span className="sb-optional"> ({t('optional')})</span>}
            </label>
            <div className={`sb-input-row${error ? ' sb-invalid' : ''}`}>
                {f.prefix && <span className="sb-affix">{f.prefix}</span>}
                {f.options ? (
                    <select
                        id={id}
                        name={f.name}
                        className="sb-input"
                        value={value}
                        required={f.required}
                        aria-invalid={error ? true : undefined}
                        aria-describedby={described}
                        onChange={(e) => onChange(e.target.value)}
                    >
                        {!f.required || value === '' ? <option value="">—</option> : null}
                        {f.options.map((o) => (
                            <option key={o} value={o}>
                                {o}
                            </option>
                        ))}
                    </select>
                ) : (
                    <input
                        id={id}
                        name={f.name}
                        className="sb-input"
                        type={f.secret && !reveal ? 'password' : 'text'}
                        autoComplete={f.secret ? 'off' : f.name === 'username' ? 'username' : 'off'}
                        spellCheck={false}
                        placeholder={f.placeholder}
                        value={value}
                        required={f.required}
                        aria-invalid={error ? true : undefined}
                        aria-describedby={described}
                        onChange={(e) => onChange(e.target.value)}
                    />
                )}
                {f.suffix && <span className="sb-affix">{f.suffix}</span>}
                {f.secret && (
                    <button type="button" className="sb-reveal" onClick={() => setReveal(!reveal)} aria-pressed={reveal} aria-controls={id}>
                        {reveal ? t('hideSecret') : t('showSecret')}
                    </button>
                )}
            </div>
            {f.description && (
                <p id={`${id}-desc`} className="sb-hint">
                    {f.description}
                </p>
            )}
            {error && (
                <p id={`${id}-err`} className="sb-field-error">
                    {error}
                </p>
            )}
        </div>
    );
}

export function IntegrationScreen({ t, item, session, reconnecting, error, busy, onSubmit }: Props) {
    const name = item.integration.display_name;
    const flow = item.provider ? flowOf(item.provider.auth_mode) : 'unsupported';
    const [aws, setAws] = useState<AwsVariant>('key');
    const fields = item.provider ? formFields(item.provider, item.integration.unique_key, session, t, aws) : [];
    const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.id, f.initial])));
    const [errors, setErrors] = useState<Record<string, string>>({});
    const formRef = useRef<HTMLFormElement>(null);

    const submit = (e: FormEvent) => {
        e.preventDefault();
        if (busy) return;
        const found: Record<string, string> = {};
        for (const f of fields) {
            const problem = validate(f, values[f.id] ?? '');
            if (problem) found[f.id] = t(problem);
        }
        setErrors(found);
        const first = fields.find((f) => found[f.id]);
        if (first) {
            formRef.current?.querySelector<HTMLInputElement>(`#sb-${first.id.replace('.', '-')}`)?.focus();
            return;
        }
        const pick = (kind: FormField['kind']) =>
            Object.fromEntries(
                fields.filter((f) => f.kind === kind && (values[f.id] ?? '') !== '').map((f) => [f.name, f.secret ? values[f.id]! : values[f.id]!.trim()])
            );
        onSubmit({ credentials: pick('credential'), params: pick('param') });
    };

    const intro = flow === 'oauth' ? 'oauthIntro' : flow === 'none' ? 'noneIntro' : 'credentialsIntro';
    return (
        <>
            <div className="sb-integration-head">
                <Logo src={item.integration.logo ?? item.provider?.logo_url} name={name} size={56} />
            </div>
            <Heading id="sb-heading">{t(reconnecting ? 'reconnectTo' : 'connectTo', { name })}</Heading>
            {flow === 'unsupported' ? (
                <p className="sb-muted">{t('unsupported', { name, mode: item.provider?.auth_mode ?? '?' })}</p>
            ) : (
                <form ref={formRef} onSubmit={submit} noValidate>
                    <p className="sb-muted">{t(intro, { name })}</p>
                    {flow === 'aws_sigv4' && (
                        <fieldset className="sb-field sb-choice">
                            <legend className="sb-label">{t('awsKind')}</legend>
                            {(['key', 'role'] as const).map((v) => (
                                <label key={v} className="sb-choice-option">
                                    <input
                                        type="radio"
                                        name="sb-aws-variant"
                                        value={v}
                                        checked={aws === v}
                                        onChange={() => {
                                            setAws(v);
                                            setErrors({});
                                        }}
                                    />{' '}
                                    {t(v === 'key' ? 'awsUseKey' : 'awsUseRole')}
                                </label>
                            ))}
                        </fieldset>
                    )}
                    {fields.map((f) => (
                        <FieldInput
                            key={f.id}
                            t={t}
                            f={f}
                            value={values[f.id] ?? ''}
                            error={errors[f.id]}
                            onChange={(v) => setValues({ ...values, [f.id]: v })}
                        />
                    ))}
                    {(item.provider?.docs_connect ?? item.provider?.docs) && fields.length > 0 && (
                        <p className="sb-hint">
                            {/* docs_connect: the provider's page for end users on finding these values. */}
                            <a href={item.provider?.docs_connect ?? item.provider?.docs} target="_blank" rel="noopener noreferrer">
                                {t('docsLink')}
                            </a>
                        </p>
                    )}
                    {error && (
                        <div className="sb-alert" role="alert" data-testid="form-error">
                            <p>{t(messageKey(error.code), { name })}</p>
                            {error.message && error.message !== error.code && <p className="sb-alert-detail">{error.message}</p>}
                        </div>
                    )}
                    <button type="submit" className="sb-button sb-primary" disabled={busy} aria-busy={busy}>
                        {busy ? t('connecting') : t(reconnecting ? 'reconnect' : 'connect')}
                    </button>
                </form>
            )}
        </>
    );
}
