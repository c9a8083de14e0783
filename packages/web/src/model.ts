import type { Integration, Provider } from './api.ts';
import type { UiError } from './errors.ts';
import type { ConnectResult } from './protocol.ts';

/** One integration of the session, with its provider definition when it could be read. */
export interface Item {
    integration: Integration;
    provider: Provider | undefined;
}

export type Screen =
    | { name: 'loading'; waitingForToken: boolean }
    | { name: 'list' }
    | { name: 'integration'; item: Item; error?: UiError }
    | { name: 'popup'; item: Item }
    | { name: 'success'; item: Item; result: ConnectResult }
    | { name: 'error'; error: UiError; item?: Item };
