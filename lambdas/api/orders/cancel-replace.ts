// Binance's answers to POST /api/v3/order/cancelReplace: 200 with both halves when both succeeded; otherwise
// an error whose body also carries `data` with each half's result (-2021 when one half failed, HTTP 409;
// -2022 when the cancel failed and the new order failed or was not attempted, HTTP 400). A new order refused
// for the ORDERS limit makes it a 429, as Binance answers orderRateLimitExceededMode=CANCEL_ONLY.
import { BinanceError } from '@lambdas/shared/http/binance-error';
import type { CancelReplaceResult } from './order-service';

export type HalfResult = 'SUCCESS' | 'FAILURE' | 'NOT_ATTEMPTED';

export interface CancelReplaceBody<C, N> {
  cancelResult: HalfResult;
  newOrderResult: HalfResult;
  cancelResponse: C | { code: number; msg: string };
  newOrderResponse: N | { code: number; msg: string } | null;
}

/** A cancel-replace that did not fully succeed: Binance's `{code, msg, data}`. */
export class CancelReplaceError extends BinanceError {
  constructor(
    statusCode: number,
    code: number,
    message: string,
    readonly data: CancelReplaceBody<unknown, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(statusCode, code, message, undefined, headers);
    this.name = 'CancelReplaceError';
  }

  override toJSON(): { code: number; msg: string; data: CancelReplaceBody<unknown, unknown> } {
    return { code: this.code, msg: this.message, data: this.data };
  }
}

/**
 * The response body of a fully successful cancel-replace, or throws the CancelReplaceError that answers
 * the request. `cancelBody` and `newOrderBody` are the formatted halves that succeeded (DELETE and POST
 * /api/v3/order shapes).
 */
export function cancelReplaceAnswer<C, N>(
  result: CancelReplaceResult,
  cancelBody: C | undefined,
  newOrderBody: N | undefined,
  headers: Record<string, string> = {},
): CancelReplaceBody<C, N> {
  const { cancel, placed } = result;
  const body: CancelReplaceBody<C, N> = {
    cancelResult: cancel.ok ? 'SUCCESS' : 'FAILURE',
    newOrderResult: placed === 'NOT_ATTEMPTED' ? 'NOT_ATTEMPTED' : placed.ok ? 'SUCCESS' : 'FAILURE',
    cancelResponse: cancel.ok ? (cancelBody as C) : cancel.error.toJSON(),
    newOrderResponse:
      placed === 'NOT_ATTEMPTED' ? null : placed.ok ? (newOrderBody as N) : placed.error.toJSON(),
  };
  if (body.cancelResult === 'SUCCESS' && body.newOrderResult === 'SUCCESS') return body;
  const rateError =
    placed !== 'NOT_ATTEMPTED' && !placed.ok && placed.error.code === -1015 ? placed.error : undefined;
  const errorHeaders = { ...headers, ...rateError?.headers };
  if (body.cancelResult === 'FAILURE' && body.newOrderResult !== 'SUCCESS')
    throw new CancelReplaceError(400, -2022, 'Order cancel-replace failed.', body, errorHeaders);
  throw new CancelReplaceError(
    rateError ? 429 : 409,
    -2021,
    'Order cancel-replace partially failed.',
    body,
    errorHeaders,
  );
}
