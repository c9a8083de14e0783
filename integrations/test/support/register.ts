/**
 * Lets node:test import the scripts as they are: `nango` resolves to the compile-time shim, and the
 * scripts' Node16-style `./x.js` specifiers resolve to the `./x.ts` files (what esbuild does when bundling).
 * Import this module first, then import scripts dynamically (static imports resolve before it runs).
 */
import { registerHooks } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const shim = new URL('./nango-shim.ts', import.meta.url).href;

registerHooks({
    resolve(specifier, context, next) {
        if (specifier === 'nango') return { url: shim, shortCircuit: true };
        if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL) {
            const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
            if (!existsSync(fileURLToPath(new URL(specifier, context.parentURL))) && existsSync(fileURLToPath(ts))) return next(ts.href, context);
        }
        return next(specifier, context);
    }
});
