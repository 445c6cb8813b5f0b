import type { Candle, CandleSeries } from '../core/candle.js';

/**
 * PostgreSQL's binary COPY format for rows of `candles (exchange, symbol, timeframe, open_time, open, high, low,
 * close, volume)`: no text to parse on the server side, which is what lets an idempotent ingest keep up with COPY.
 * Format: signature, flags and extension length; per row a field count and each field's length and bytes
 * (timestamptz = int64 microseconds since 2000-01-01 UTC, float8 big-endian); a -1 field count ends the stream.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const FIELDS = 9;

export function copyBinaryHeader(): Buffer {
  const header = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(header, 0);
  return header; // flags 0, header extension 0
}

export function copyBinaryTrailer(): Buffer {
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  return trailer;
}

export function encodeCandleRows(series: CandleSeries, candles: readonly Candle[]): Buffer {
  const texts = [series.exchange, series.symbol, series.timeframe].map((t) => Buffer.from(t, 'utf8'));
  const prefixLength = 2 + texts.reduce((n, t) => n + 4 + t.length, 0);
  // The text fields are the same in every row: encode them once and copy them into each row.
  const prefix = Buffer.alloc(prefixLength);
  let p = prefix.writeInt16BE(FIELDS, 0);
  for (const t of texts) {
    p = prefix.writeInt32BE(t.length, p);
    p += t.copy(prefix, p);
  }
  const rowLength = prefixLength + 4 + 8 + 5 * (4 + 8);
  const out = Buffer.allocUnsafe(rowLength * candles.length);
  let o = 0;
  for (const c of candles) {
    o += prefix.copy(out, o);
    o = out.writeInt32BE(8, o);
    // int64 as two 32-bit halves: microseconds fit a double exactly (< 2^53), and BigInt costs more than the row.
    const micros = (c.openTime - PG_EPOCH_MS) * 1000;
    const high = Math.floor(micros / 2 ** 32);
    o = out.writeInt32BE(high, o);
    o = out.writeUInt32BE(micros - high * 2 ** 32, o);
    // Written out, not looped over an array: an array per row was most of this function's garbage.
    o = out.writeDoubleBE(c.open, out.writeInt32BE(8, o));
    o = out.writeDoubleBE(c.high, out.writeInt32BE(8, o));
    o = out.writeDoubleBE(c.low, out.writeInt32BE(8, o));
    o = out.writeDoubleBE(c.close, out.writeInt32BE(8, o));
    o = out.writeDoubleBE(c.volume, out.writeInt32BE(8, o));
  }
  return out;
}
