import type { Translate } from '../i18n.ts';
import { Heading, Logo, Spinner } from '../ui.tsx';
import { messageKey, type UiError } from '../errors.ts';
import type { Item } from '../model.ts';

export function PopupScreen({ t, item, onCancel }: { t: Translate; item: Item; onCancel: () => void }) {
    const name = item.integration.display_name;
    return (
        <>
            <div className="sb-integration-head">
                <Logo src={item.integration.logo} name={name} size={56} />
            </div>
            <Heading id="sb-heading">{t('connectTo', { name })}</Heading>
            <Spinner label={t('waitingForPopup', { name })} />
            <button type="button" className="sb-button sb-secondary" onClick={onCancel}>
                {t('cancel')}
            </button>
        </>
    );
}

export function SuccessScreen({ t, item, onDone }: { t: Translate; item: Item; onDone: () => void }) {
    const name = item.integration.display_name;
    return (
        <div className="sb-center" data-testid="success">
            <span className="sb-badge sb-badge-success" aria-hidden="true">
                <svg width="28" height="28" viewBox="0 0 28 28">
                    <path d="M7 14.5 12 19.5 21 9.5" fill="none" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round" />
                </svg>
            </span>
            <Heading id="sb-heading">{t('successTitle')}</Heading>
            <p className="sb-muted">{t('successText', { name })}</p>
            <button type="button" className="sb-button sb-primary" onClick={onDone}>
                {t('done')}
            </button>
        </div>
    );
}

export function ErrorScreen({
    t,
    error,
    name,
    onRetry,
    onClose
}: {
    t: Translate;
    error: UiError;
    name: string;
    onRetry: (() => void) | undefined;
    onClose: () => void;
}) {
    return (
        <div className="sb-center" data-testid="error" data-error-code={error.code}>
            <span className="sb-badge sb-badge-danger" aria-hidden="true">
                <svg width="28" height="28" viewBox="0 0 28 28">
                    <path d="M14 8v8M14 20.5v.5" fill="none" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" />
                </svg>
            </span>
            <Heading id="sb-heading">{t('errorTitle')}</Heading>
            <p role="alert">{t(messageKey(error.code), { name })}</p>
            <p className="sb-hint">{t('errorDetails', { detail: error.code })}</p>
            <div className="sb-actions">
                {onRetry && (
                    <button type="button" className="sb-button sb-secondary" onClick={onRetry}>
                        {t('tryAgain')}
                    </button>
                )}
                <button type="button" className="sb-button sb-primary" onClick={onClose}>
                    {t('close')}
                </button>
            </div>
        </div>
    );
}
