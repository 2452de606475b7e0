// DynamoDB sorts string keys byte by byte: numbers in sort keys (trade ids, order ids, times) are written
// zero-padded to one width so that their string order is their numeric order. One width for every table.

/** `n` (a non-negative safe integer) as a 16-digit, zero-padded sort-key part. */
export const sortableNumber = (n: number): string => String(n).padStart(16, '0');
