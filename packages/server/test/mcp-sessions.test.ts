// MCP sessions held by one instance: bounded per environment and in all, least recently used first, so one tenant
// opening sessions by the thousand closes only its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpSessions, type McpSession } from '../src/mcp/sessions.ts';

const session = (principal: string, environmentId: number): McpSession => ({
    transport: new StreamableHTTPServerTransport({ sessionIdGenerator: undefined }),
    server: new Server({ name: 't', version: '1' }, { capabilities: {} }),
    principal,
    environmentId,
    ref: { providerConfigKey: 'p', connectionId: 'c' },
    lastSeen: Date.now()
});

describe('MCP sessions', () => {
    it('a tenant over its cap evicts its own least recently used sessions, never another environment’s', () => {
        const sessions = new McpSessions({ max: 10, maxPerEnvironment: 3 });
        sessions.register('victim-1', session('agent:v', 1));
        sessions.register('victim-2', session('agent:v', 1));
        for (let i = 0; i < 50; i++) sessions.register(`flood-${i}`, session(`agent:a${i}`, 2));
        assert.ok(sessions.get('victim-1', 'agent:v'), 'the other environment keeps its sessions');
        assert.ok(sessions.get('victim-2', 'agent:v'));
        assert.equal(sessions.size, 5, 'two of environment 1, three of environment 2');
        assert.ok(sessions.get('flood-49', 'agent:a49') && sessions.get('flood-47', 'agent:a47'));
        assert.equal(sessions.get('flood-0', 'agent:a0'), undefined);
        sessions.closeAll();
    });

    it('when the instance is full, the least recently used session goes, not the first opened', () => {
        const sessions = new McpSessions({ max: 3, maxPerEnvironment: 3 });
        sessions.register('a', session('agent:a', 1));
        sessions.register('b', session('agent:b', 2));
        sessions.register('c', session('agent:c', 3));
        assert.ok(sessions.get('a', 'agent:a'), 'a is used again');
        sessions.register('d', session('agent:d', 4));
        assert.ok(sessions.get('a', 'agent:a'), 'kept: used recently');
        assert.equal(sessions.get('b', 'agent:b'), undefined, 'b was the least recently used');
        assert.equal(sessions.get('a', 'agent:b'), undefined, "another principal cannot use a's session");
        sessions.closeAll();
    });
});
