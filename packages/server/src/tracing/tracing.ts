import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

/**
 * Optional OpenTelemetry traces (issue #16 item 2), off unless SWITCHBOARD_OTLP_TRACES_URL is set: a server span per
 * inbound request, and inside it the spans of what the request caused (a credentials refresh, each proxy attempt to
 * the provider), exported over OTLP/HTTP. One object per server, passed by name to what opens spans; the current span
 * lives in this object's own AsyncLocalStorage, so nothing touches OpenTelemetry's global providers or context.
 * A request carrying a W3C `traceparent` joins the caller's trace; nothing is propagated to providers.
 */
export class Tracing {
    private readonly tracer: Tracer;
    private readonly provider: TracerProvider;
    private readonly current = new AsyncLocalStorage<Context>();
    private readonly spans = new WeakMap<IncomingMessage, { span: Span; context: Context }>();

    constructor(opts: { url: string; serviceName?: string; scheduledDelayMillis?: number }) {
        const exporter = new OTLPTraceExporter({ url: opts.url });
        this.provider = new TracerProvider({
            resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'switchboard' }),
            spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: opts.scheduledDelayMillis ?? 2000 })]
        });
        this.tracer = this.provider.getTracer('switchboard');
    }

    /**
     * Runs a request listener inside the request's server span, which ends when the answer is finished or the
     * connection closes. Both doors (the proxy's fast door and Fastify) run inside it.
     */
    request(req: IncomingMessage, res: ServerResponse, listener: () => void): void {
        const header = req.headers['traceparent'];
        const remote = typeof header === 'string' ? parseTraceParent(header) : null;
        const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
        // Named after the route template once it is known (route()); never after the raw URL.
        const span = this.tracer.startSpan(req.method ?? 'HTTP', { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '' } }, parent);
        const context = trace.setSpan(parent, span);
        this.spans.set(req, { span, context });
        const end = () => {
            span.setAttribute('http.response.status_code', res.statusCode);
            if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
        };
        res.once('close', end);
        this.current.run(context, listener);
    }

    /** Names the request's span after its route template (low cardinality, as OpenTelemetry's HTTP conventions ask). */
    route(req: IncomingMessage, route: string): void {
        const entry = this.spans.get(req);
        if (!entry) return;
        entry.span.updateName(`${req.method} ${route}`);
        entry.span.setAttribute('http.route', route);
    }

    /**
     * Re-enters the request's span for the rest of Fastify's lifecycle: a body is read in socket callbacks that
     * do not carry the listener's context, so the handler is run from here (a preHandler hook).
     */
    resume(req: IncomingMessage, next: () => void): void {
        const entry = this.spans.get(req);
        if (entry) this.current.run(entry.context, next);
        else next();
    }

    /** Runs fn in a child span of the current one; an exception marks the span failed. */
    async span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
        const parent = this.current.getStore() ?? ROOT_CONTEXT;
        const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
        try {
            return await this.current.run(trace.setSpan(parent, span), () => fn(span));
        } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
            throw err;
        } finally {
            span.end();
        }
    }

    /** A child span of the current one that the caller ends (an upstream attempt that ends in a callback). */
    start(name: string, attributes: Attributes, kind: SpanKind = SpanKind.CLIENT): Span {
        return this.tracer.startSpan(name, { kind, attributes }, this.current.getStore() ?? ROOT_CONTEXT);
    }

    /** Exports what is buffered and stops. */
    async close(): Promise<void> {
        await this.provider.shutdown();
    }
}
