// The host functions a skill sees (log_info, time_now, http_get, http_post, test constants),
// installed as non-configurable globals; each enforces its per-run budget.
import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle } from 'quickjs-emscripten-core';
import type { SandboxInput } from './sandbox-types.js';

export const MAX_LOG_CHARS = 2000;

export interface RunState {
  deadline: number;
  /** Set when a budget is exhausted: the interrupt handler then stops the guest. */
  budget: string | undefined;
  finished: boolean;
  httpCalls: number;
  logCalls: number;
  inflight: number;
  deferreds: Set<QuickJSDeferredPromise>;
  abort: AbortController;
  pump: () => void;
  /** A host-side failure while handing a result to the guest (ends the run). */
  hostError?: unknown;
}

export function installHost(ctx: QuickJSContext, input: SandboxInput, state: RunState): void {
  const { limits, host } = input;
  const define = (name: string, h: QuickJSHandle) => {
    ctx.defineProp(ctx.global, name, { value: h, configurable: false, enumerable: false });
    h.dispose();
  };
  const str = (h: QuickJSHandle | undefined, what: string): string => {
    if (!h || ctx.typeof(h) !== 'string') throw new TypeError(`${what} must be a string`);
    return ctx.getString(h);
  };
  define('log_info', ctx.newFunction('log_info', (msgH) => {
    if (++state.logCalls > limits.maxLogCalls) {
      state.budget ??= `skill exceeded the log budget (max ${limits.maxLogCalls} log_info calls per run)`;
      throw new Error(state.budget);
    }
    const t = msgH ? ctx.typeof(msgH) : 'undefined';
    const text = t === 'string' ? ctx.getString(msgH!) : t === 'number' ? String(ctx.getNumber(msgH!)) : t === 'boolean' ? String(ctx.dump(msgH!)) : `[${t}]`;
    host.log(text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}...` : text);
    return undefined;
  }));
  define('time_now', ctx.newFunction('time_now', () => ctx.newString(host.now())));
  const httpFn = (method: 'GET' | 'POST') => (urlH: QuickJSHandle | undefined, bodyH: QuickJSHandle | undefined) => {
    const fnName = method === 'GET' ? 'http_get' : 'http_post';
    if (++state.httpCalls > limits.maxHttpCalls) {
      state.budget ??= `skill exceeded the http call budget (max ${limits.maxHttpCalls} calls per run)`;
      throw new Error(state.budget);
    }
    const url = str(urlH, `${fnName} url`);
    const body = method === 'POST' ? (bodyH === undefined || ctx.typeof(bodyH) === 'undefined' ? '' : str(bodyH, 'http_post body')) : undefined;
    const deferred = ctx.newPromise();
    state.deferreds.add(deferred);
    state.inflight++;
    const land = (apply: () => void) => {
      state.inflight--;
      if (state.finished) return; // the run ended (timeout, budget): its handles are gone
      state.deferreds.delete(deferred);
      try {
        apply();
      } catch (err) {
        state.hostError ??= err;
      } finally {
        deferred.dispose();
      }
      state.pump();
    };
    host.http(method, url, body, state.abort.signal).then(
      (res) =>
        land(() => {
          const obj = ctx.newObject();
          const set = (k: string, v: QuickJSHandle) => {
            ctx.setProp(obj, k, v);
            v.dispose();
          };
          set('status', ctx.newNumber(res.status));
          set('body', ctx.newString(res.body));
          if (res.location !== undefined) set('location', ctx.newString(res.location));
          deferred.resolve(obj);
          obj.dispose();
        }),
      (err: unknown) =>
        land(() => {
          const e = ctx.newError({ name: 'HttpError', message: (err as Error)?.message ?? String(err) });
          deferred.reject(e);
          e.dispose();
        }),
    );
    return deferred.handle;
  };
  define('http_get', ctx.newFunction('http_get', httpFn('GET')));
  define('http_post', ctx.newFunction('http_post', httpFn('POST')));
  for (const [k, v] of Object.entries(input.constants ?? {})) {
    if (/^[A-Z][A-Z0-9_]*$/.test(k)) define(k, ctx.newString(v));
  }
}
