/** An error the API reports to the caller as Binance does: an HTTP 4xx/5xx status and `{code, msg}`. */
export class BinanceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: number,
    message: string,
    readonly cause?: unknown,
    /** Response headers that go with the error, e.g. `Retry-After` on 429 and 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'BinanceError';
  }

  toJSON(): { code: number; msg: string } {
    return { code: this.code, msg: this.message };
  }
}

export const mandatoryParam = (name: string) =>
  new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
