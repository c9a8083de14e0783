import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardApp } from './App.tsx';
import './dashboard.css';

createRoot(document.getElementById('root')!).render(
    <StrictMode>
        <DashboardApp />
    </StrictMode>
);
