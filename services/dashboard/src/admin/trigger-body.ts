import { z } from 'zod';
import { COLLECT_DEFAULTS, type CollectRequest } from '@ferry/shared/collect';
import { TIMEFRAME_NAMES, isoDateString, isTimeframe, parseIsoDate, type FerryConfig, type Timeframe } from '@ferry/shared/core';
import { COLLECTION_MODES } from '@ferry/shared/jobs';
import { COLLECT_SOURCES, includeDelistedProblem } from '@ferry/shared/archive/sources';
import type { FieldProblem } from '../http-answer.js';


const symbol = z.string().transform((s) => s.trim().toUpperCase()).transform((s) => (s.includes('/') ? s : `${s}/USDT`))
  .refine((s) => /^[A-Z0-9]{1,20}\/[A-Z0-9]{2,10}$/.test(s), { message: 'expected coins such as BTC or BTC/USDT' });

/** The seeds' trigger body; unknown fields are an error, not ignored. */
const triggerBody = z.object({
  mode: z.enum(COLLECTION_MODES, { message: `expected one of ${COLLECTION_MODES.join(', ')}` }),
  start_date: isoDateString.optional(),
  end_date: isoDateString.optional(),
  symbols: z.array(symbol, { message: 'expected an array of coins such as ["BTC", "ETH/USDT"]' }).min(1, 'expected at least one coin').optional(),
  top: z.number({ message: 'expected a whole number from 1 to 1000' }).int('expected a whole number from 1 to 1000')
    .min(1, 'expected a whole number from 1 to 1000').max(1000, 'expected a whole number from 1 to 1000').optional(),
  timeframe: z.string().refine(isTimeframe, { message: `expected one of ${TIMEFRAME_NAMES.join(', ')}` }).optional(),
  /** Where history comes from, as `ferry collect --source`; default rest, or auto with include_delisted. */
  source: z.enum(COLLECT_SOURCES, { message: `expected one of ${COLLECT_SOURCES.join(', ')}` }).optional(),
  /** As `ferry collect --include-delisted`. */
  include_delisted: z.boolean({ message: 'expected true or false' }).optional(),
}).strict();

export type TriggerParse = { ok: true; request: CollectRequest } | { ok: false; problems: FieldProblem[] };


/**
 * Validates a trigger body; every problem names the field and the reason. What it does not say is what `ferry collect`
 * without options asks for (COLLECT_DEFAULTS). Pure but for the clock, `nowMs`, which bounds end_date: candles of the
 * future cannot be fetched.
 */
export function parseTriggerBody(body: unknown, config: FerryConfig, nowMs: number = Date.now()): TriggerParse {
  const parsed = triggerBody.safeParse(body ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): FieldProblem[] =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: key, message: 'unknown field' }))
        : [{ field: issue.path.length > 0 ? issue.path.join('.') : '(body)', message: issue.path.length > 0 ? issue.message : 'expected a JSON object' }]);
    return { ok: false, problems };
  }
  const b = parsed.data;
  const startMs = b.start_date === undefined ? undefined : parseIsoDate(b.start_date);
  const endMs = b.end_date === undefined ? undefined : parseIsoDate(b.end_date);
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    return { ok: false, problems: [{ field: 'end_date', message: `expected a date after start_date ${b.start_date}` }] };
  }
  if (endMs !== undefined && endMs > nowMs) {
    return { ok: false, problems: [{ field: 'end_date', message: `expected a date no later than now, ${new Date(nowMs).toISOString()}` }] };
  }
  // Delisted coins' history is in the archive only, so asking for them without a source means the archive where it is.
  const source = b.source ?? (b.include_delisted ? 'auto' : undefined);
  const delistedProblem = b.include_delisted ? includeDelistedProblem(source ?? 'rest', config.exchange.id, config, 'source') : undefined;
  if (delistedProblem) return { ok: false, problems: [{ field: 'include_delisted', message: delistedProblem }] };
  return {
    ok: true,
    request: {
      exchange: config.exchange.id,
      top: b.top ?? COLLECT_DEFAULTS.top,
      minVolume: COLLECT_DEFAULTS.minVolume,
      days: COLLECT_DEFAULTS.days,
      timeframes: b.timeframe ? [b.timeframe as Timeframe] : [...COLLECT_DEFAULTS.timeframes],
      symbols: b.symbols ? [...new Set(b.symbols)] : undefined,
      mode: b.mode,
      startMs,
      endMs,
      ...(source ? { source } : {}),
      ...(b.include_delisted ? { includeDelisted: true } : {}),
    },
  };
}
