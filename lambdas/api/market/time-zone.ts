// Binance's `timeZone` parameter of /klines and /uiKlines.
import { BinanceError } from '../../shared/http';

/** Binance's timeZone parameter ("0", "8", "-1:00", "05:45"; [-12:00, +14:00]) → minutes east of UTC. */
export function parseTimeZone(s: string | undefined): number {
  if (s === undefined) return 0;
  const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/.exec(s);
  const minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : NaN;
  if (!m || Number(m[3] ?? 0) > 59 || minutes < -720 || minutes > 840)
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'timeZone'; invalid timeZone.");
  return minutes;
}
