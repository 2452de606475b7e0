// Entry point reserved for the order-pipeline work (issue 4); replaced there by the real handler.
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 503,
  body: JSON.stringify({ code: -1000, msg: 'Not available yet.' }),
});
