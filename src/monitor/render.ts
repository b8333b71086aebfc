// Text layout of one snapshot, in the original's panel order ([APP] [PROCESS] [HOST]
// [STORAGE]); live mode adds cpu/rss sparklines. Pure: returns lines, prints nothing.
import type { Snapshot } from './collector.js';
import { formatBytes, formatDuration, formatNumber, formatPercent, sparkline } from './format.js';

function val(v: unknown): string {
  if (v === undefined || v === null || v === '') return 'n/a';
  return String(v);
}

function appLines(s: Snapshot): string[] {
  const t = s.app.telemetry;
  const out = ['[APP]', `provider: ${s.app.provider}`, `model: ${s.app.model}`, `telemetry_file: ${s.app.telemetry_file}`];
  if (t.status !== 'ok') {
    out.push(`telemetry: unavailable${t.reason ? ` (${t.reason})` : ''}`);
    return out;
  }
  out.push(`turns: total=${val(t.total_turns)} ok=${val(t.ok_turns)} error=${val(t.error_turns)} provider=${val(t.provider_turns)} tool=${val(t.tool_turns)} skill=${val(t.skill_turns)}`);
  out.push(`last_update: ${val(t.updated_at)}`);
  if (t.codex) {
    const c = t.codex;
    out.push(`codex: accounts=${val(c.accounts_healthy)}/${val(c.accounts_total)} queue=${val(c.queue_depth)}/${val(c.queue_capacity)} threshold=${val(c.rate_limit_threshold_percent)}%`);
  }
  if (t.pulse) {
    const p = t.pulse;
    out.push(`pulse: jobs=${val(p.jobs_total)} enabled=${val(p.jobs_enabled)} pending_approvals=${val(p.pending_approvals)} goals=${val(p.goals_achieved)}/${val(p.goals_total)} last_tick=${val(p.last_tick_executed_jobs)} err=${val(p.last_tick_error_jobs)}`);
  }
  if (t.evolution) out.push(...evolutionLines(t.evolution));
  const lt = t.last_turn;
  out.push(lt ? `last_turn: request_id=${val(lt.request_id)} path=${val(lt.path)} status=${val(lt.status)} session=${val(lt.session_id)}` : 'last_turn: <none>');
  return out;
}

function evolutionLines(e: Record<string, unknown>): string[] {
  const out = [`evolution: skill=${e.last_skill_name ? String(e.last_skill_name) : '<none>'} (${val(e.last_skill_status)}) apply=${e.last_apply_status ? String(e.last_apply_status) : '<none>'} rollback=${val(e.rollback_performed)} timeout=${val(e.healthcheck_timed_out)}`];
  const status = typeof e.active_slot_integrity_status === 'string' ? e.active_slot_integrity_status : undefined;
  if (status) {
    out.push(`evolution_active_slot: status=${status} sig_present=${val(e.active_slot_signature_present)} sig_verified=${val(e.active_slot_signature_verified)} require_signed=${val(e.active_slot_require_signed)}${e.active_slot ? ` slot=${String(e.active_slot)}` : ''}`);
    const unsignedOk = (status === 'unsigned' || status === 'signature_present_unverified') && e.active_slot_require_signed !== true;
    if (status !== 'valid' && status !== 'missing_marker' && !unsignedOk) out.push(`evolution_alert: active-slot integrity ${e.active_slot_integrity_message ? String(e.active_slot_integrity_message) : 'requires operator review'}`);
  }
  if ('apply_failure_circuit_open' in e) {
    const threshold = typeof e.apply_failure_threshold === 'number' && e.apply_failure_threshold > 0 ? String(e.apply_failure_threshold) : 'disabled';
    out.push(`evolution_failure_circuit: open=${val(e.apply_failure_circuit_open)} failures=${val(e.apply_failure_consecutive)} threshold=${threshold}`);
    if (e.apply_failure_circuit_open === true) out.push('evolution_alert: apply failure circuit open; reset only after remediation');
  }
  return out;
}

function processLines(s: Snapshot, live: boolean, width: number): string[] {
  const p = s.process;
  if (!p) return ['[PROCESS]', `process: not found (${s.process_missing ?? 'no match'})${live ? ' — waiting for a matching pid' : ''}`];
  const out = [
    '[PROCESS]',
    `pid: ${p.pid} (${p.chosen})`,
    `command: ${p.label}`,
    `cpu: ${formatPercent(p.cpu_percent)} | rss: ${formatBytes(p.rss_bytes)} | vms: ${formatBytes(p.vms_bytes)}`,
    `io: read=${formatBytes(p.read_bytes)} write=${formatBytes(p.write_bytes)} | fd_count=${formatNumber(p.fd_count)} | threads=${formatNumber(p.threads)} | uptime=${formatDuration(p.uptime_secs)} | state=${p.state}`,
  ];
  if (live) {
    const cpu = s.history.cpu.map((v) => v ?? undefined);
    const rss = s.history.rss.map((v) => v ?? undefined);
    const rssPresent = rss.filter((v): v is number => v !== undefined);
    const rssMin = rssPresent.length ? Math.min(...rssPresent) * 0.95 : 0;
    out.push(`cpu  [${sparkline(cpu, { min: 0, max: Math.max(100, ...cpu.map((v) => v ?? 0)), width }).padEnd(width)}]`);
    out.push(`rss  [${sparkline(rss, { min: rssMin, width }).padEnd(width)}] max=${formatBytes(rssPresent.length ? Math.max(...rssPresent) : undefined)}`);
  }
  return out;
}

function hostLines(s: Snapshot): string[] {
  const h = s.host;
  const la = h.loadavg ? h.loadavg.map((x) => x.toFixed(2)).join(' ') : 'n/a';
  return [
    '[HOST]',
    `loadavg: ${la} | cpu_cores: ${formatNumber(h.cpu_cores)}`,
    `memory: used=${formatBytes(h.memory.used_bytes)} total=${formatBytes(h.memory.total_bytes)} available=${formatBytes(h.memory.available_bytes)}`,
    `swap: used=${formatBytes(h.swap.used_bytes)} total=${formatBytes(h.swap.total_bytes)} free=${formatBytes(h.swap.free_bytes)}`,
  ];
}

function storageLines(s: Snapshot): string[] {
  const st = s.storage;
  if (!st) return ['[STORAGE]', 'storage: n/a'];
  const size = (b: number | null, complete: boolean) => (complete ? formatBytes(b) : `>=${formatBytes(b)} (partial scan)`);
  const fs = st.filesystem;
  return [
    '[STORAGE]',
    `data_dir: ${st.data_dir}`,
    `workspace: ${st.workspace}`,
    `dir_size: data=${size(st.data_dir_bytes, st.data_dir_complete)} workspace=${size(st.workspace_bytes, st.workspace_complete)}`,
    fs ? `filesystem: used=${formatBytes(fs.used_bytes)} total=${formatBytes(fs.total_bytes)} avail=${formatBytes(fs.avail_bytes)} use%=${fs.use_percent}%` : 'filesystem: n/a',
  ];
}

export function renderSnapshot(s: Snapshot, opts: { live: boolean; sparkWidth?: number }): string[] {
  const header = opts.live ? `interval: ${s.interval_ms} ms | match: '${s.match}' | press q or Ctrl+C to exit` : `match: '${s.match}' | snapshot (--once)`;
  return [
    'Rusty Pinch Monitor',
    `time: ${s.time} (${new Date(s.time * 1000).toISOString()})`,
    header,
    '',
    ...appLines(s),
    '',
    ...processLines(s, opts.live, opts.sparkWidth ?? 40),
    '',
    ...hostLines(s),
    '',
    ...storageLines(s),
  ];
}
