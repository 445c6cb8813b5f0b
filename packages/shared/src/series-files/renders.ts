import { isTimeframe } from '../core/timeframes.js';
import { filesPerMonth } from './file-periods.js';

/**
 * Which render of a series is current, decided from file names alone (pure, unit-tested). Every render of a series
 * shares the name prefix `<stem>_<timeframe>_` in the series' directory and differs only in its dates
 * (file-name.ts). Renders compete within a SLOT: the whole series for daily timeframes; for intraday ones
 * (file-periods.ts: one file per UTC month) the month of the render's last candle, so a render replaces only the
 * earlier renders of its own month and the closed months' files stay. The current render of a slot is the NEWEST:
 * the latest last date; for the same last date, a file within one month before one spanning several (the one-file
 * layout of intraday series before month files, replaced by the month file ending the same day), then the earlier
 * first date (it holds more history); then the name, so every host picks the same. The same rule decides locally
 * (after a render), on the sync target (after a commit), for a sync job (is its file still current?) and in
 * `ferry restore`, which therefore reads both layouts.
 */
export interface SeriesRender {
  /** `candles/BTC/BTC-USDT_1d_20221112_20251111.parquet`, relative to DATA_DIR. */
  relativePath: string;
  /** `candles/BTC/BTC-USDT_1d_`: the same for every render of the series, whatever its dates. */
  series: string;
  /** `20221112`: the UTC day of the first candle. */
  firstDay: string;
  /** `20251111`: the UTC day of the last candle. */
  lastDay: string;
  /**
   * What the render competes for: `series` for a daily timeframe (`candles/BTC/BTC-USDT_1d_`), `series` and the
   * month of the last candle for an intraday one (`candles/BTC/BTC-USDT_1m_202601`).
   */
  slot: string;
}

const RENDER = /^(candles\/[^/]+\/[^/_]+_([^/_]+)_)(\d{8})_(\d{8})\.parquet$/;

/** The render a path names, or undefined when it is not named like a series file (notes, temp files, other data). */
export function parseSeriesRender(relativePath: string): SeriesRender | undefined {
  const match = RENDER.exec(relativePath);
  if (!match) return undefined;
  const [, series, timeframe, firstDay, lastDay] = match as unknown as [string, string, string, string, string];
  const monthly = isTimeframe(timeframe) && filesPerMonth(timeframe);
  return { relativePath, series, firstDay, lastDay, slot: monthly ? `${series}${lastDay.slice(0, 6)}` : series };
}

/** Negative when `a` is newer than `b`: sorting with it puts the current render first. */
export function compareRenders(a: SeriesRender, b: SeriesRender): number {
  if (a.lastDay !== b.lastDay) return a.lastDay > b.lastDay ? -1 : 1;
  const aMonth = withinOneMonth(a);
  if (aMonth !== withinOneMonth(b)) return aMonth ? -1 : 1;
  if (a.firstDay !== b.firstDay) return a.firstDay < b.firstDay ? -1 : 1;
  return a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0;
}

function withinOneMonth(r: SeriesRender): boolean {
  return r.firstDay.slice(0, 6) === r.lastDay.slice(0, 6);
}

export interface RenderReplacement {
  /** The render of the series to keep: `current`, unless a newer one is among the others. */
  newest: string;
  /** Every other render of the series, to delete; holds `current` itself when a newer render exists. */
  superseded: string[];
}

/**
 * What to keep and what to delete once `current` is in place beside `others` (paths in the same store: a local
 * directory, or the target's folder mapped back to relative paths). Only renders of its slot compete: paths of other
 * series or other months, or not named like a render, are left alone. A `current` that is not a series file replaces nothing.
 */
export function planRenderReplacement(current: string, others: readonly string[]): RenderReplacement {
  const mine = parseSeriesRender(current);
  if (!mine) return { newest: current, superseded: [] };
  const renders = [mine];
  for (const other of new Set(others)) {
    const render = parseSeriesRender(other);
    if (render && render.slot === mine.slot && other !== current) renders.push(render);
  }
  renders.sort(compareRenders);
  const [newest, ...superseded] = renders as [SeriesRender, ...SeriesRender[]];
  return { newest: newest.relativePath, superseded: superseded.map((r) => r.relativePath) };
}

/**
 * The newest render of each slot (series, or month of an intraday series) among `paths` (a backup that still holds several renders), and the others with
 * the render that supersedes them. Paths not named like a render are in neither list.
 */
export function newestRenders(paths: readonly string[]): { newest: string[]; superseded: Array<{ relativePath: string; by: string }> } {
  const bySlot = new Map<string, SeriesRender[]>();
  for (const path of new Set(paths)) {
    const render = parseSeriesRender(path);
    if (!render) continue;
    const list = bySlot.get(render.slot) ?? [];
    list.push(render);
    bySlot.set(render.slot, list);
  }
  const newest: string[] = [];
  const superseded: Array<{ relativePath: string; by: string }> = [];
  for (const renders of bySlot.values()) {
    renders.sort(compareRenders);
    const [first, ...rest] = renders as [SeriesRender, ...SeriesRender[]];
    newest.push(first.relativePath);
    for (const r of rest) superseded.push({ relativePath: r.relativePath, by: first.relativePath });
  }
  return { newest: newest.sort(), superseded: superseded.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1)) };
}
