// Runs the scripted agent for one connection and prints what it did: `node src/main.ts` (see ../README.md).
import { Nango } from '@nangohq/node';
import { z } from 'zod';
import { runAgent } from './agent.ts';
import { triagePlanner } from './planner.ts';
import { toolDefinitions } from './tools.ts';

const env = z
    .object({
        NANGO_HOST: z.url(),
        NANGO_SECRET_KEY: z.string().min(1),
        NANGO_CONNECTION_ID: z.string().min(1),
        NANGO_INTEGRATION: z.string().min(1).default('helpdesk')
    })
    .parse(process.env);

// What a real agent would send the model with each request; the scripted planner needs only the names.
const definitions = toolDefinitions();
console.log(`tools: ${definitions.map((d) => d.name).join(', ')}`);
await runAgent({
    nango: new Nango({ host: env.NANGO_HOST, secretKey: env.NANGO_SECRET_KEY }),
    connection: { providerConfigKey: env.NANGO_INTEGRATION, connectionId: env.NANGO_CONNECTION_ID },
    planner: triagePlanner
});
