/** A flow failure as the SDK sees it: the WebSocket `error_type` and a sentence for the page. */
export class FlowError extends Error {
    override name = 'FlowError';
    readonly type: string;

    constructor(type: string, message: string) {
        super(message);
        this.type = type;
    }
}
