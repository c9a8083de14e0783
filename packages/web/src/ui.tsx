// Small shared pieces: the dialog frame, headings that take focus, logos.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Translate } from './i18n.ts';

export function Heading({ children, id }: { children: ReactNode; id: string }) {
    const ref = useRef<HTMLHeadingElement>(null);
    // Moving focus to each new screen's heading tells screen readers the content changed (and keeps Tab order sane).
    useEffect(() => ref.current?.focus(), []);
    return (
        <h1 id={id} ref={ref} tabIndex={-1} className="sb-title">
            {children}
        </h1>
    );
}

export function Logo({ src, name, size = 40 }: { src: string | undefined; name: string; size?: number }) {
    const [failed, setFailed] = useState(false);
    const cls = size > 40 ? 'sb-logo sb-logo-lg' : 'sb-logo';
    if (!src || failed) {
        return (
            <span className={`${cls} sb-logo-fallback`} aria-hidden="true">
                {name.slice(0, 1).toUpperCase()}
            </span>
        );
    }
    return <img className={cls} src={src} alt="" width={size} height={size} onError={() => setFailed(true)} />;
}

export function Frame({
    t,
    onBack,
    onClose,
    labelledBy,
    children
}: {
    t: Translate;
    onBack?: (() => void) | undefined;
    onClose: () => void;
    labelledBy: string;
    children: ReactNode;
}) {
    return (
        <div className="sb-backdrop">
            <div className="sb-dialog" role="dialog" aria-modal="true" aria-labelledby={labelledBy}>
                <div className="sb-topbar">
                    {onBack ? (
                        <button type="button" className="sb-icon-button" onClick={onBack} aria-label={t('back')}>
                            <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">
                                <path
                                    d="M12.5 4.5 7 10l5.5 5.5"
                                    fill="none"
                                    stroke="currentColor"
                                    strokeWidth="1.8"
                                    strokeLinecap="round"
                                    strokeLinejoin="round"
                                />
                            </svg>
                        </button>
                    ) : (
                        <span />
                    )}
                    <button type="button" className="sb-icon-button" onClick={onClose} aria-label={t('close')} data-testid="close">
                        <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">
                            <path d="M5 5l10 10M15 5 5 15" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
                        </svg>
                    </button>
                </div>
                <div className="sb-body">{children}</div>
            </div>
        </div>
    );
}

export function Spinner({ label }: { label: string }) {
    return (
        <div className="sb-center" role="status" aria-live="polite">
            <span className="sb-spinner" aria-hidden="true" />
            <p className="sb-muted">{label}</p>
        </div>
    );
}
