import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BaseSettings, EmulatorControl, FaultRule } from './control.js';

export interface EmulatorRequest {
  method: string;
  /** Path without the query string, e.g. `/api/v3/klines`. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  raw: http.IncomingMessage;
}

export type EmulatorHandler = (req: EmulatorRequest, res: http.ServerResponse) => Promise<void> | void;

export interface RunningEmulator<S extends BaseSettings> {
  name: string;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  port: number;
  control: EmulatorControl<S>;
  close(): Promise<void>;
}

export interface StartOptions<S extends BaseSettings> {
  name: string;
  port?: number;
  host?: string;
  control: EmulatorControl<S>;
  handler: EmulatorHandler;
  /** The emulator's own answer for a random server error (each service words it differently). */
  serverError: (res: http.ServerResponse) => void;
}

/**
 * Starts an emulator: a plain node:http server (so tests can produce wire-level faults such as resets and short
 * bodies) plus the `/__control/` API:
 *   GET  /__control/counters          -> { counters }
 *   GET  /__control/settings          -> settings
 *   POST /__control/settings  {patch} -> settings
 *   POST /__control/faults    {rule}  -> faults
 *   DELETE /__control/faults[?name=]  -> faults
 *   POST /__control/reset             -> {}
 */
export async function startHttpEmulator<S extends BaseSettings>(opts: StartOptions<S>): Promise<RunningEmulator<S>> {
  const { control } = opts;
  const sockets = new Set<Socket>();
  const server = http.createServer((raw, res) => {
    void dispatch(raw, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator ${opts.name} crashed: ${err instanceof Error ? err.stack : String(err)}`);
      } else {
        res.destroy();
      }
    });
  });
  // Node's default of 5 s closes an idle kept-alive socket just as a client may start reusing it for its next request,
  // which that client sees as ECONNRESET (a big upload's start after hashing the file for 5 s under load). The real
  // services keep idle connections about a minute; close() below ends the sockets anyway.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function dispatch(raw: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://emulator');
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const req: EmulatorRequest = {
      method: raw.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: raw.headers,
      body: Buffer.concat(chunks),
      raw,
    };
    if (req.path.startsWith('/__control/')) return controlApi(req, res);

    control.count('requests');
    if (control.settings.latencyMs > 0) await sleep(control.settings.latencyMs);
    if (control.settings.errorRate > 0 && Math.random() < control.settings.errorRate) {
      control.count('injected:server-error');
      return opts.serverError(res);
    }
    await opts.handler(req, res);
  }

  function controlApi(req: EmulatorRequest, res: http.ServerResponse): void {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      controlRoute(req, json);
    } catch (err) {
      // A malformed body or a setting the emulator refuses: the caller's mistake, named.
      json(400, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  function controlRoute(req: EmulatorRequest, json: (status: number, body: unknown) => void): void {
    const parse = (): unknown => (req.body.length ? JSON.parse(req.body.toString('utf8')) : {});
    const route = `${req.method} ${req.path}`;
    switch (route) {
      case 'GET /__control/counters':
        return json(200, { counters: control.snapshot() });
      case 'GET /__control/settings':
        return json(200, control.settings);
      case 'POST /__control/settings':
        return json(200, control.configure(parse() as Partial<S>));
      case 'POST /__control/faults':
        control.addFault(parse() as FaultRule);
        return json(200, { faults: control.listFaults() });
      case 'DELETE /__control/faults':
        control.clearFaults(req.query.get('name') ?? undefined);
        return json(200, { faults: control.listFaults() });
      case 'POST /__control/reset':
        control.reset();
        return json(200, {});
      default:
        return json(404, { error: `no control route ${route}` });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name: opts.name,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    control,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
