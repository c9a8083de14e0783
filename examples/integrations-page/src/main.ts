// Starts the example backend: `node src/main.ts` with the variables below (see ../README.md).
import { z } from 'zod';
import { buildApp } from './app.ts';

const env = z
    .object({
        NANGO_HOST: z.url(),
        NANGO_SECRET_KEY: z.string().min(1),
        NANGO_PUBLIC_KEY: z.string().min(1),
        NANGO_HMAC_KEY: z.string().min(1),
        PORT: z.coerce.number().int().min(0).max(65535).default(3010)
    })
    .parse(process.env);

const app = buildApp({ host: env.NANGO_HOST, secretKey: env.NANGO_SECRET_KEY, publicKey: env.NANGO_PUBLIC_KEY, hmacKey: env.NANGO_HMAC_KEY });
const url = await app.listen({ port: env.PORT, host: '127.0.0.1' });
console.log(`integrations page on ${url}`);
