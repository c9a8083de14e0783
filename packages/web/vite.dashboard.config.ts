import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The operator dashboard: a second entry of the same React build, served by the server at /dashboard/ on the
// private listener only (packages/server/src/dashboard). Like the Connect UI, no inline script or style.
export default defineConfig({
    root: 'dashboard',
    base: '/dashboard/',
    plugins: [react()],
    build: {
        outDir: '../dist-dashboard',
        emptyOutDir: true,
        assetsInlineLimit: 0,
        modulePreload: { polyfill: false },
        target: 'es2022'
    }
});
