/** The HTTP response behind a failed SDK call (axios throws on non-2xx); fails the test if the call succeeded. */
export async function sdkFailure(p: Promise<unknown>): Promise<{ status: number; data: { error: { code: string; message: string; payload?: unknown } } }> {
    try {
        await p;
    } catch (err) {
        const res = (err as { response?: { status: number; data: never } }).response;
        if (res) return res;
        throw err;
    }
    throw new Error('expected the SDK call to fail');
}
