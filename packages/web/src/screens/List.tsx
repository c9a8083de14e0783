import { useState } from 'react';
import type { Translate } from '../i18n.ts';
import { Heading, Logo } from '../ui.tsx';
import type { Item } from '../model.ts';

const SEARCH_FROM = 7;

export function ListScreen({ t, items, onPick }: { t: Translate; items: Item[]; onPick: (item: Item) => void }) {
    const [query, setQuery] = useState('');
    const needle = query.trim().toLowerCase();
    const shown = needle
        ? items.filter((i) => i.integration.display_name.toLowerCase().includes(needle) || i.integration.unique_key.toLowerCase().includes(needle))
        : items;
    return (
        <>
            <Heading id="sb-heading">{t('title')}</Heading>
            <p className="sb-muted">{t('subtitle')}</p>
            {items.length >= SEARCH_FROM && (
                <div className="sb-field">
                    <label htmlFor="sb-search" className="sb-visually-hidden">
                        {t('search')}
                    </label>
                    <input
                        id="sb-search"
                        className="sb-input"
                        type="search"
                        placeholder={t('search')}
                        value={query}
                        onChange={(e) => setQuery(e.target.value)}
                    />
                </div>
            )}
            {items.length === 0 ? (
                <p className="sb-empty">{t('noIntegrations')}</p>
            ) : (
                <ul className="sb-list" data-testid="integrations">
                    {shown.map((item) => (
                        <li key={item.integration.unique_key}>
                            <button type="button" className="sb-item" onClick={() => onPick(item)} data-integration={item.integration.unique_key}>
                                <Logo src={item.integration.logo ?? item.provider?.logo_url} name={item.integration.display_name} />
                                <span className="sb-item-name">{item.integration.display_name}</span>
                                <svg className="sb-chevron" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                                    <path
                                        d="M6 3.5 10.5 8 6 12.5"
                                        fill="none"
                                        stroke="currentColor"
                                        strokeWidth="1.6"
                                        strokeLinecap="round"
                                        strokeLinejoin="round"
                                    />
                                </svg>
                            </button>
                        </li>
                    ))}
                </ul>
            )}
        </>
    );
}
