// waitForAmendAnswer (lambdas/api/orders/answer-waiter.ts): an amend request's answer is its own command's
// amendment row, whatever the order row shows.
import { AnswerWaiter, waitForAmendAnswer, type AmendAnswerDeps } from '@lambdas/api/orders/answer-waiter';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import { orderRecord } from '../support/order-record';

const ORDER = 7;
const CMD = 'a-7-0000000000000001';

/** A store the real AnswerWaiter polls: the order row as the settlement left it. */
function world(row: OrderRecord) {
  const state = {
    row,
    rows: new Map<string, { executionId: number }>(),
    applied: false,
    /** Reads of the command's row before it shows up (a settlement committing between two reads). */
    rowAfterReads: 0,
    reads: 0,
  };
  const answers = new AnswerWaiter({ answered: async () => [state.row] }, 1, 1);
  const deps: AmendAnswerDeps = {
    answers,
    amendmentOf: async (orderId, cmdId) => {
      state.reads++;
      if (state.reads <= state.rowAfterReads) return undefined;
      return orderId === ORDER ? state.rows.get(cmdId) : undefined;
    },
    order: async () => state.row,
    applied: async () => state.applied,
  };
  return { state, deps };
}

const placed = orderRecord({ orderId: ORDER, qtyLots: 1_000, status: 'NEW' });

describe('waitForAmendAnswer', () => {
  it("answers this amend's execution id while the row shows a later amend's lower quantity", async () => {
    const { state, deps } = world({ ...placed, qtyLots: 500, lastSeq: 50 });
    state.rows.set(CMD, { executionId: 44 });
    state.applied = true;
    const answer = await waitForAmendAnswer(deps, placed, 600, CMD, 1_000);
    expect(answer).toEqual({ order: expect.objectContaining({ qtyLots: 500 }), executionId: 44 });
  });

  it('is a refusal when the command is applied without a row, though the row shows this quantity', async () => {
    // Another amend to the same quantity was applied; this one was refused (not lower any more).
    const { state, deps } = world({ ...placed, qtyLots: 600, lastSeq: 50 });
    state.rows.set('a-7-other', { executionId: 49 });
    state.applied = true;
    const answer = await waitForAmendAnswer(deps, placed, 600, CMD, 1_000);
    expect(answer).toEqual({ order: expect.objectContaining({ qtyLots: 600 }) });
    expect(answer?.executionId).toBeUndefined();
  });

  it('reads the row once more after seeing the command applied', async () => {
    const { state, deps } = world({ ...placed, qtyLots: 600, lastSeq: 44 });
    state.rows.set(CMD, { executionId: 44 });
    state.applied = true;
    state.rowAfterReads = 1; // the first read missed it: its transaction committed just after
    expect(await waitForAmendAnswer(deps, placed, 600, CMD, 1_000)).toMatchObject({ executionId: 44 });
  });

  it('waits while nothing is answered, and gives up at its deadline', async () => {
    const { deps } = world(placed);
    const started = Date.now();
    expect(await waitForAmendAnswer(deps, placed, 600, CMD, 150)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
