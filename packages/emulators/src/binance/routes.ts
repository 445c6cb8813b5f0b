import type { EmulatorControl, FaultRule } from '../common/control.js';
import type { EmulatorRequest } from '../common/http-server.js';
import {
  duplicateParameter, gatewayError, ipBanned, maintenancePage, notFound, restrictedLocation, tooMuchWeight, unreadParameters,
  wafBlocked,
} from './errors.js';
import { MARKET_ROUTES, type MarketRoute } from './market-routes.js';
import { jsonReply, resetReply, withHeaders, type Reply } from './reply.js';
import { requestWeight, usedWeightHeader } from './request-weights.js';
import { BinanceCounter, BinanceFault, exchangeNow, type BinanceSettings } from './settings.js';
import { universe, type SymbolInfo } from './universe.js';
import type { Verdict, WeightLimiter, WeightRules } from './weight-limiter.js';

/**
 * The checks every request passes, in order: the route; faults between client and exchange (reset, gateway error,
 * HTML page); the weight limiter (429/418); parameters Binance does not read; a wrong-shape fault; the route's own
 * validation and answer.
 * Every answer from the exchange itself carries the used-weight headers.
 */

export interface BinanceState {
  control: EmulatorControl<BinanceSettings>;
  limiter: WeightLimiter;
}

function numberParam(fault: FaultRule, name: string): number | undefined {
  const v = fault.params?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** X-MBX-USED-WEIGHT-1M always; the configured window's own header too when it is not one minute. */
function weightHeaders(verdict: Verdict, windowMs: number): Record<string, string> {
  const headers: Record<string, string> = { 'X-MBX-USED-WEIGHT-1M': String(verdict.usedMinute) };
  if (windowMs !== 60_000) headers[usedWeightHeader(windowMs)] = String(verdict.used);
  return headers;
}

/** Binance refuses repeated parameters (-1101) and parameters the endpoint does not read (-1104). */
function parameterProblem(route: MarketRoute, query: URLSearchParams): Reply | undefined {
  const names = [...query.keys()];
  const distinct = new Set(names);
  if (distinct.size !== names.length) return duplicateParameter();
  const read = names.filter((n) => route.params.includes(n)).length;
  return read === names.length ? undefined : unreadParameters(read, names.length);
}

function transportFault(control: EmulatorControl<BinanceSettings>, target: string): Reply | undefined {
  const fault = control.takeFault(target, [
    BinanceFault.ConnectionReset, BinanceFault.ServerError, BinanceFault.Html, BinanceFault.RestrictedLocation, BinanceFault.WafBlock,
  ]);
  if (!fault) return undefined;
  if (fault.name === BinanceFault.ConnectionReset) return resetReply;
  if (fault.name === BinanceFault.RestrictedLocation) return restrictedLocation();
  if (fault.name === BinanceFault.WafBlock) return wafBlocked();
  if (fault.name === BinanceFault.Html) return maintenancePage();
  return gatewayError(numberParam(fault, 'status') ?? 502, fault.params?.['body'] === 'json' ? 'json' : 'html');
}

function judge(state: BinanceState, target: string, weight: number, realNow: number): Verdict {
  const { control, limiter } = state;
  const s = control.settings;
  const rules: WeightRules = { limit: s.weightLimit, windowMs: s.windowMs, banMs: s.banMs, violationsBeforeBan: s.violationsBeforeBan };
  const forced = control.takeFault(target, [BinanceFault.RateLimit, BinanceFault.Ban]);
  if (forced?.name === BinanceFault.Ban) return limiter.forceBan(numberParam(forced, 'banMs') ?? s.banMs, rules, realNow);
  if (forced) return limiter.forceLimited((numberParam(forced, 'retryAfterSeconds') ?? 1) * 1000, rules, realNow);
  return limiter.charge(weight, rules, realNow);
}

export function answer(state: BinanceState, req: EmulatorRequest): Reply {
  const { control, limiter } = state;
  const route = MARKET_ROUTES[req.path];
  if (!route || req.method !== 'GET') return notFound(req.method, req.path);
  control.count(BinanceCounter.endpoint(req.path));
  const query = req.query.toString();
  const target = query ? `${req.path}?${query}` : req.path;

  const transport = transportFault(control, target);
  if (transport) return transport;

  // Weight windows run on real time: a frozen candle clock must not freeze the limiter.
  const realNow = Date.now();
  const weight = requestWeight(req.path, req.query);
  const verdict = judge(state, target, weight, realNow);
  control.counters.set(BinanceCounter.maxWindowWeight, limiter.maxWindowWeight);
  const s = control.settings;
  const headers = weightHeaders(verdict, s.windowMs);
  if (verdict.kind === 'banned') {
    if (verdict.newBan) control.count(BinanceCounter.bans);
    return withHeaders(ipBanned(verdict.bannedUntil, realNow), headers);
  }
  if (verdict.kind === 'limited') return withHeaders(tooMuchWeight(s.weightLimit, s.windowMs, verdict.retryAfterMs), headers);
  control.count(BinanceCounter.weight, weight);
  control.count(BinanceCounter.weightOf(req.path), weight);

  const problem = parameterProblem(route, req.query);
  if (problem) return withHeaders(problem, headers);
  if (control.takeFault(target, [BinanceFault.WrongShape])) return withHeaders(jsonReply({ unexpected: true }), headers);
  const listed = universe(s);
  const symbols = new Map<string, SymbolInfo>(listed.map((i) => [i.symbol, i]));
  const reply = route.handle({ settings: s, now: exchangeNow(s), symbols, control, target }, req.query);
  return withHeaders(reply, headers);
}
