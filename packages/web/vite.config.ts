import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by the server at /connect/ (packages/server/src/connect-ui). No inline scripts or styles end up in
// index.html, so the page runs under a CSP of script-src/style-src 'self'.
export default defineConfig({
    base: '/connect/',
    plugins: [react()],
    build: {
        outDir: 'dist',
        emptyOutDir: true,
        assetsInlineLimit: 0,
        modulePreload: { polyfill: false },
        target: 'es2022'
    }
});
