import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { readPageConfig } from './config.ts';
import { createParentChannel } from './protocol.ts';
import './styles.css';

const page = readPageConfig();
const channel = createParentChannel();
createRoot(document.getElementById('root')!).render(
    <StrictMode>
        <App page={page} channel={channel} />
    </StrictMode>
);
