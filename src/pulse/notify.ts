// Operator notifications: recorded in the state (bounded, for `pulse status`) and handed for every
// RUSTY_PINCH_PULSE_NOTIFY target to the injected notify callback: the app's durable outbox,
// which `serve` drains. Pending ones left by older versions are handed over when the scheduler wakes.
import { randomBytes } from 'node:crypto';
import { emitEvent } from '../observe/index.js';
import { PulseError, iso } from './jobs.js';
import { MAX_NOTIFICATIONS } from './state-store.js';
import type { PulseSettings } from '../config/index.js';
import type { PulseCallbacks } from './executors.js';
import type { Notification, PulseState } from './types.js';

/** The part of PulseService notifications use (declared here so service.ts can import this file). */
export interface NotifyHost {
  readonly settings: PulseSettings;
  readonly callbacks: PulseCallbacks;
  readonly store: { read(): PulseState };
  now(): number;
  mutate<T>(fn: (s: PulseState) => T): Promise<T>;
}

/** Records and sends `text` to every configured target; returns a summary line. */
export async function deliverNotification(svc: NotifyHost, text: string): Promise<string> {
  const targets = svc.settings.notify;
  if (targets.length === 0) {
    emitEvent('pulse_notify', { status: 'no_target', text });
    throw new PulseError('no notification target configured (set RUSTY_PINCH_PULSE_NOTIFY, e.g. telegram:<chat id>)');
  }
  const created = await svc.mutate((s) => {
    const out: Notification[] = targets.map((target) => ({ id: `pn-${randomBytes(6).toString('hex')}`, created_at: iso(svc.now()), target, text, status: 'pending' }));
    s.notifications.push(...out);
    if (s.notifications.length > MAX_NOTIFICATIONS) s.notifications.splice(0, s.notifications.length - MAX_NOTIFICATIONS);
    return out;
  });
  const results = await send(svc, created);
  return results.map((n) => `${n.target}: ${n.status}${n.error ? ` (${n.error})` : ''}`).join('; ');
}

/**
 * Tells every notify target that an approval waits (an `approval` message on the road out), so
 * the operator need not poll `pulse status`. Silent without targets; a failure is only logged.
 */
export async function announceApproval(svc: NotifyHost, a: { token: string; action: string; risk: string; expires_at: string }): Promise<void> {
  const notify = svc.callbacks.notify;
  if (!notify || svc.settings.notify.length === 0) return;
  const text = `Approval needed (${a.risk} risk): ${a.action}\nApprove: rusty-pinch pulse approve --token ${a.token}\nReject: rusty-pinch pulse reject --token ${a.token}\nExpires ${a.expires_at}.`;
  for (const target of svc.settings.notify) {
    try {
      await notify(target, text, 'approval');
      emitEvent('pulse_approval_announced', { token: a.token, target });
    } catch (err) {
      emitEvent('pulse_approval_announced', { token: a.token, target, error: (err as Error).message || String(err) });
    }
  }
}

/** Delivers notifications left pending by processes without channels. */
export async function flushPendingNotifications(svc: NotifyHost): Promise<number> {
  if (!svc.callbacks.notify) return 0;
  const pending = svc.store.read().notifications.filter((n) => n.status === 'pending');
  if (pending.length === 0) return 0;
  await send(svc, pending);
  return pending.length;
}

async function send(svc: NotifyHost, items: Notification[]): Promise<Notification[]> {
  const notify = svc.callbacks.notify;
  const done: Notification[] = [];
  for (const n of items) {
    if (!notify) {
      emitEvent('pulse_notify', { id: n.id, target: n.target, status: 'pending', text: n.text });
      done.push(n);
      continue;
    }
    try {
      const how = await notify(n.target, n.text);
      done.push({ ...n, status: how === 'queued' ? 'queued' : 'sent' });
    } catch (err) {
      done.push({ ...n, status: 'failed', error: (err as Error).message || String(err) });
    }
    const d = done[done.length - 1] as Notification;
    emitEvent('pulse_notify', { id: d.id, target: d.target, status: d.status, text: d.text, ...(d.error ? { error: d.error } : {}) });
  }
  if (notify) {
    await svc.mutate((s) => {
      for (const d of done) {
        const rec = s.notifications.find((x) => x.id === d.id);
        if (rec) Object.assign(rec, d);
      }
    });
  }
  return done;
}
