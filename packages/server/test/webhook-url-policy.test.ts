// Webhook URLs obey the egress address policy when they are configured (issue #10 item 12): with private egress
// off, a URL deliveries could never reach (e.g. `http://localhost.:port`, refused only at dial time before) is
// refused by PATCH /admin/webhooks/settings and by SWITCHBOARD_WEBHOOK_URL, instead of silently dropping events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, startServer, type TestServer } from './support/server.ts';
import { api, startReceiver, type Receiver } from './support/webhooks.ts';

describe('webhook URL policy with private egress off', () => {
    let server: TestServer;
    let receiver: Receiver;

    before(async () => {
        receiver = await startReceiver();
        server = await startServer({ SWITCHBOARD_ALLOW_PRIVATE_EGRESS: 'false' });
    });
    after(async () => {
        await server?.stop();
        await receiver?.close();
        if (server) removeDir(server.dataDir);
    });

    it('refuses local and private URLs with invalid_body, naming the field, and changes nothing', async () => {
        const port = new URL(receiver.url).port;
        assert.equal((await api(server, 'PATCH', '/admin/webhooks/settings', { url: 'https://hooks.example.com/in' })).status, 200);
        const refused = [
            `http://localhost.:${port}/`,
            `http://LOCALHOST..:${port}/`,
            `http://127.0.0.1:${port}/`,
            `http://[::1]:${port}/`,
            'http://10.1.2.3/',
            'http://app.localhost/',
            'http://169.254.169.254/'
        ];
        for (const url of refused) {
            for (const field of ['url', 'secondary_url'] as const) {
                const res = await api(server, 'PATCH', '/admin/webhooks/settings', { [field]: url });
                assert.equal(res.status, 400, `${field}=${url}: ${JSON.stringify(res.body)}`);
                assert.equal(res.body.error.code, 'invalid_body');
                assert.deepEqual(res.body.error.errors[0].path, [field]);
                assert.match(res.body.error.message, new RegExp(`^${field}: .* private or local address`), `${field}=${url}: ${JSON.stringify(res.body)}`);
            }
        }
        const settings = await api(server, 'GET', '/admin/webhooks/settings');
        assert.equal(settings.body.data.url, 'https://hooks.example.com/in');
        assert.equal(settings.body.data.secondary_url, null);
        assert.equal(receiver.requests.length, 0);
    });

    it('SWITCHBOARD_WEBHOOK_URL on a local address refuses to start, naming the variable', async () => {
        await assert.rejects(
            startServer({ SWITCHBOARD_ALLOW_PRIVATE_EGRESS: 'false', SWITCHBOARD_WEBHOOK_URL: 'http://localhost.:8080/hook' }),
            (err: Error) => {
                assert.match(err.message, /server exited with 78/);
                assert.match(err.message, /SWITCHBOARD_WEBHOOK_URL: http:\/\/localhost\.:8080\/hook is a private or local address/);
                return true;
            }
        );
    });
});
