import { EmulatorControl } from '../common/control.js';
import { startHttpEmulator, type RunningEmulator } from '../common/http-server.js';
import { emulatorCandles, emulatorKlines, type EmulatedCandle, type KlineQuery, type KlineRow } from './candles.js';
import { internalError } from './errors.js';
import { sendReply } from './reply.js';
import { answer } from './routes.js';
import { assertValidSettings, BinanceCounter, DEFAULT_SETTINGS, exchangeNow, type BinanceSettings } from './settings.js';
import { universe, type SymbolInfo } from './universe.js';
import { WeightLimiter } from './weight-limiter.js';

/**
 * Binance spot REST, emulated for public market data: GET /api/v3/{ping, time, exchangeInfo, ticker/24hr, klines}
 * with Binance's weights, a fixed weight window with 429 -> 418 escalation, listing dates, halts, an outage and the
 * still-open candle. The pure helpers exported here (`emulatorCandles`, `emulatorKlines`, `universe`) are the truth
 * tests compare a client's results with.
 */

export {
  BinanceCounter, BinanceFault, DEFAULT_OUTAGE, DEFAULT_SETTINGS, exchangeNow, LISTING_ANCHOR, type BinanceSettings,
  type Outage,
} from './settings.js';
export { binanceId, findSymbol, universe, type SymbolInfo } from './universe.js';
export { emulatorCandles, emulatorKlines, type EmulatedCandle, type KlineQuery, type KlineRow } from './candles.js';
export { INTERVAL_NAMES, klineInterval } from './intervals.js';
export { requestWeight, usedWeightHeader } from './request-weights.js';
export { WeightLimiter, type Verdict, type WeightRules } from './weight-limiter.js';

export interface BinanceEmulatorOptions {
  /** Default: a free port. */
  port?: number;
  host?: string;
  /** Overrides of DEFAULT_SETTINGS (which `control.reset()` returns to). */
  settings?: Partial<BinanceSettings>;
}

export interface BinanceEmulator extends RunningEmulator<BinanceSettings> {
  /** Every CLOSED candle the emulator serves for `symbol` (BTC/USDT or BTCUSDT) opening in [startMs, endMs), now. */
  candles(symbol: string, interval: string, startMs: number, endMs: number): EmulatedCandle[];
  /** Exactly what GET /api/v3/klines answers now for this query (default limit 500; the open candle included). */
  klines(symbol: string, interval: string, query?: Partial<KlineQuery>): KlineRow[];
  /** The symbols listed now. */
  symbols(): SymbolInfo[];
  /** The exchange's clock now. */
  now(): number;
}

/** Settings are checked when set (in-process or over /__control/settings); reset also forgets the weight windows. */
class BinanceControl extends EmulatorControl<BinanceSettings> {
  constructor(defaults: BinanceSettings, private readonly limiter: WeightLimiter) {
    super(defaults);
  }

  override configure(patch: Partial<BinanceSettings>): BinanceSettings {
    assertValidSettings({ ...this.settings, ...patch });
    return super.configure(patch);
  }

  override reset(): void {
    super.reset();
    this.limiter.reset();
  }
}

export async function startBinanceEmulator(options: BinanceEmulatorOptions = {}): Promise<BinanceEmulator> {
  const defaults: BinanceSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  assertValidSettings(defaults);
  const limiter = new WeightLimiter();
  const control = new BinanceControl(defaults, limiter);
  const state = { control, limiter };
  const running = await startHttpEmulator({
    name: 'binance',
    port: options.port,
    host: options.host,
    control,
    handler: (req, res) => {
      const reply = answer(state, req);
      if (reply.kind !== 'reset') control.count(BinanceCounter.status(reply.status));
      sendReply(req.raw, res, reply);
    },
    serverError: (res) => {
      control.count(BinanceCounter.status(503));
      sendReply(res.req, res, internalError(503));
    },
  });
  return {
    ...running,
    candles: (symbol, interval, startMs, endMs) => emulatorCandles(symbol, interval, startMs, endMs, control.settings),
    klines: (symbol, interval, query = {}) => emulatorKlines(symbol, interval, query, control.settings),
    symbols: () => universe(control.settings),
    now: () => exchangeNow(control.settings),
  };
}
