// A fake WhatsApp bridge on 127.0.0.1 in either dialect: sends inbound frames, records outbound
// frames, checks the Baileys auth frame (close 4001 on timeout, 4003 on a bad token), and can be
// killed and restarted on the same port.
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';

export type FakeDialect = 'original' | 'baileys';

export interface FakeBridgeOptions {
  dialect: FakeDialect;
  /** Baileys dialect: required first frame `{type:"auth", token}`. */
  token?: string;
  port?: number;
  /** Close unauthenticated clients after this long (Baileys: 5 s). */
  authTimeoutMs?: number;
  /** Do not answer pings (simulates a dead peer). */
  deaf?: boolean;
}

export class FakeWhatsAppBridge {
  readonly dialect: FakeDialect;
  port = 0;
  /** Every frame a client sent (parsed JSON, or `{raw}`), auth frames included. */
  readonly received: Array<Record<string, unknown>> = [];
  /** Auth frames seen (Baileys). */
  readonly auths: string[] = [];
  /** Connections accepted since creation (across restarts). */
  connections = 0;
  private server: WebSocketServer | undefined;
  private readonly clients = new Set<WebSocket>();
  private readonly authed = new Set<WebSocket>();
  private waiters: Array<() => void> = [];

  private constructor(private readonly opts: FakeBridgeOptions) {
    this.dialect = opts.dialect;
  }

  static async start(opts: FakeBridgeOptions): Promise<FakeWhatsAppBridge> {
    const b = new FakeWhatsAppBridge(opts);
    await b.listen(opts.port ?? 0);
    return b;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Outbound replies (not auth frames). */
  get outbound(): Array<Record<string, unknown>> {
    return this.received.filter((f) => f.type !== 'auth');
  }

  /** Clients ready to receive (authenticated when a token is required). */
  get liveClients(): number {
    return [...this.clients].filter((c) => this.isAuthed(c) && c.readyState === WebSocket.OPEN).length;
  }

  private isAuthed(ws: WebSocket): boolean {
    return this.opts.dialect !== 'baileys' || !this.opts.token || this.authed.has(ws);
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({ host: '127.0.0.1', port, autoPong: !this.opts.deaf });
      server.once('error', reject);
      server.once('listening', () => {
        this.port = (server.address() as AddressInfo).port;
        this.server = server;
        resolve();
      });
      server.on('connection', (ws) => this.accept(ws));
    });
  }

  private accept(ws: WebSocket): void {
    this.connections++;
    this.clients.add(ws);
    let authTimer: NodeJS.Timeout | undefined;
    if (this.opts.dialect === 'baileys' && this.opts.token) {
      authTimer = setTimeout(() => ws.close(4001, 'Auth timeout'), this.opts.authTimeoutMs ?? 5000);
    }
    ws.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        frame = { raw: data.toString() };
      }
      this.received.push(frame);
      if (this.opts.dialect === 'baileys' && this.opts.token && !this.authed.has(ws)) {
        clearTimeout(authTimer);
        if (frame.type === 'auth' && frame.token === this.opts.token) {
          this.auths.push(String(frame.token));
          this.authed.add(ws);
        } else {
          ws.close(4003, 'Invalid token');
        }
      } else if (this.opts.dialect === 'baileys' && frame.type === 'send') {
        ws.send(JSON.stringify({ type: 'sent', to: frame.to }));
      }
      this.wake();
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.clients.delete(ws);
      this.authed.delete(ws);
      this.wake();
    });
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Waits until `cond()` holds (re-checked on every bridge event and every 20 ms). */
  async waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`fake bridge: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a connected (and authenticated) client. */
  waitForClient(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.liveClients > 0, timeoutMs, 'a client');
  }

  /** Sends a raw text frame to every ready client. */
  sendRaw(text: string): void {
    for (const c of this.clients) if (this.isAuthed(c) && c.readyState === WebSocket.OPEN) c.send(text);
  }

  /** Sends an inbound chat message in this bridge's dialect. */
  inbound(m: { from: string; text: string; id?: string; chat?: string; pn?: string; participant?: string; isGroup?: boolean }): void {
    if (this.opts.dialect === 'original') {
      this.sendRaw(JSON.stringify({ type: 'message', from: m.from, ...(m.chat ? { chat: m.chat } : {}), content: m.text, ...(m.id ? { id: m.id } : {}) }));
    } else {
      const sender = m.chat ?? m.from;
      this.sendRaw(
        JSON.stringify({
          type: 'message',
          id: m.id ?? `id-${Math.random().toString(36).slice(2)}`,
          sender,
          pn: m.pn ?? '',
          ...(m.participant ? { participant: m.participant } : {}),
          content: m.text,
          timestamp: Math.floor(Date.now() / 1000),
          isGroup: m.isGroup ?? sender.endsWith('@g.us'),
        }),
      );
    }
  }

  /** Drops every client and stops listening (as if the bridge process died). */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.clients) c.terminate();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.kill();
  }
}
