// Every stderr event line, by name, with the fields it carries. `emitEvent` accepts only these
// names and shapes, so a typo or a new field is a compile error, not a silent new line format.
// Lines are `{"event":<name>, ...fields}`; names and fields are kept as the original and the
// first releases printed them (operators grep for them). Add new events here.
import type { TurnRecord } from '../kernel/index.js';

type ChannelField = { channel: string };
type Err = { error: string };
type Msg = { message: string };
type OutboxFields = { id: string; kind: string; channel: string; chat_id: string; request_id: string | null };

export interface EventCatalogue {
  /** One finished turn (the original's `event=turn` line; keys printed sorted). */
  turn: TurnRecord;
  /** Not tied to one subsystem; `message` says what, the rest is context. */
  warning: Msg & { [context: string]: unknown };
  telemetry_error: Msg;
  deferred_reply: { request_id: string; session_id: string; channel: string | null; response_chars: number };
  /** The first command that created the data dir and/or workspace (CLI, piped stderr; a terminal gets a sentence). */
  first_run: Msg & { data_dir?: string; workspace?: string };
  provider_retry: { request_id: string; provider: string; attempt: number; total: number; delay_ms: number; retry_after: boolean; error: string };
  session_corrupt_line: { path: string; preview: string };
  session_commit_log_recovered: { dir: string; logs: number; restored_lines: number };
  /** A channel message seen again after a crash (docs/delivery.md): resumed, or its stored answer re-sent. */
  turn_replay: { request_id: string; session_id: string; message_id: string; action: 'resend_stored_answer' | 'resume_turn' };

  // Channels (adapters and the shared runner).
  channel_start: ChannelField & { allow_from_count: number; dm_policy: string; max_messages: number | null; poll_interval_ms?: number; poll_timeout_secs?: number; bridge_url?: string | null; reconnect_ms?: number };
  channel_stop: ChannelField & { reason: string };
  channel_signal: { signal: string; action: string };
  channel_access: ChannelField & { chat_id: string; sender: string; decision: 'allow' | 'pairing' | 'refuse'; notified?: boolean | undefined; via?: string; reason?: string; status?: string };
  channel_access_error: ChannelField & Err & { chat_id: string; sender: string };
  /** The pairing table of a channel is full; new strangers are turned away (operator told once per hour). */
  pairing_full: ChannelField & { operator_notified: boolean };
  /** A message over RUSTY_PINCH_MAX_MESSAGE_BYTES: answered with a clear reply, never stored. */
  channel_message_too_large: ChannelField & { chat_id: string; sender: string; bytes: number; limit: number };
  /** A message seen before (runner: chat + message id; Telegram: update id; WhatsApp: message id). Unknown fields are null. */
  channel_duplicate: ChannelField & { chat_id: string | null; message_id: string | null; update_id: number | null };
  channel_turn_error: ChannelField & { chat_id: string; session_id: string };
  channel_send_error: ChannelField & Err & { chat_id?: string };
  /** A send retried: never reached Telegram (`not_sent`), fate unknown (`unknown`, at-least-once), or refused for now (`rejected`: 5xx, 429). */
  channel_send_retry: ChannelField & Err & { chat_id: string; attempt: number; fate: 'not_sent' | 'unknown' | 'rejected' };
  channel_send_queued: ChannelField & { chat_id: string; queue_depth: number };
  channel_format_fallback: ChannelField & Err & { chat_id: string };
  channel_message_dropped: ChannelField & { chat_id: string; reason: string };
  channel_handler_error: ChannelField & Err;
  channel_dispatch_error: ChannelField & Err & { update_id: number };
  channel_update_skipped: ChannelField & { reason: string; update_id?: number; error?: string };
  channel_poll_error: ChannelField & Err;
  channel_poll_stall: ChannelField & { silent_ms: number; action: string };
  channel_state_error: ChannelField & Err & { path: string };
  /** Polling, but no message can ever arrive (e.g. a journal offset past every update id): not ready. */
  channel_deaf: ChannelField & { offset: number; reason: string };
  channel_parse_error: ChannelField & Err;
  channel_read_error: ChannelField & Err & { bridge_url?: string };
  channel_connect_error: ChannelField & Err & { bridge_url: string };
  channel_connected: ChannelField & { bridge_url: string; dialect: string; reconnect: boolean };
  channel_dialect: ChannelField & { dialect: string };
  channel_bridge_status: ChannelField & { status: string; message?: string };

  // serve.
  serve_start: { channels: string[]; components: string[]; ops_addr: string | null; startup_ms: number };
  serve_stopping: { channels: string[] };
  serve_stop: { reason: string };
  serve_no_channels: Msg;
  serve_channel_failed: ChannelField & Err & { retry_in_ms: number | null };
  serve_component_error: Err & { component: string; phase: string };
  ops_listening: { addr: string; endpoints: string[] };

  // Codex pool (Brain).
  codex_task: {
    task_id: number;
    account_id: string;
    kind: 'direct' | 'queued';
    status: string;
    latency_ms: number | null;
    rate_limited: boolean;
    /** The classifier's kind of a failure (auth, quota, rate_limit, network, timeout, …). */
    error_kind: string | null;
    error: string | null;
    usage: { input_tokens: number; cached_input_tokens: number; output_tokens: number; reasoning_output_tokens: number } | null;
  };
  /** A direct run failed with auth/quota/rate limit and moved on (to_account null: queued). */
  codex_failover: { task_id: number; from_account: string; to_account: string | null; reason: string | null };
  /** An account was logged in by the bootstrap or by `codex login` (never the key). */
  codex_login: { account_id: string; method: 'api_key' | 'chatgpt_seed' | 'device_auth'; source?: string; ok?: boolean };
  /** A ChatGPT device login waits for the operator: open `url`, enter `code`. */
  codex_device_auth: { account_id: string; url: string; code: string };
  codex_task_queued: { task_id: number; queue_depth: number; reason: string };
  codex_task_recovered: { task_id: number; owner_pid: number; requeued: boolean };
  codex_task_done: { task_id: number; status: string; session_id: string | null; channel: string | null };
  codex_healthcheck: { forced: boolean; checks: Array<{ account_id: string; healthy: boolean; message: string | null }> };
  codex_deliver_error: Msg & { task_id: number; session_id: string | null };
  codex_drain_error: Msg;
  codex_drainer_error: Msg;

  // Pulse.
  pulse_action: Msg & { type: string };
  pulse_error: Msg & { job_id?: string };
  pulse_job_error: Msg & { job_id: string; latency_ms: number };
  pulse_notify: { status: string; text: string; id?: string; target?: string; error?: string | undefined };
  pulse_ooda: { action: string; risk: string; decision: string; approval_status: string; orientation_source: string; goal_id: string | null };

  // Skills.
  skill_run: { skill: string; status: string; latency_ms: number; output_chars?: number; error?: string };
  skill_log: Msg & { level: string; timestamp: string; skill: string };
  skill_engine_discarded: { reason: string };
  /** What the QuickJS (emscripten) module printed itself, e.g. `Aborted(Assertion failed: …)`. */
  skill_engine_output: { stream: 'stdout' | 'stderr'; message: string };
  skills_assets_synced: { copied: number; skipped: string[]; assets_dir: string; skills_dir: string };
  skills_assets_sync_error: Msg & { assets_dir: string; skills_dir: string };

  // The outbox: the one road out for everything delivered after its turn.
  outbox_enqueued: OutboxFields;
  outbox_delivered: OutboxFields & { attempts: number };
  outbox_retry: OutboxFields & Err & { attempts: number; retry_in_ms: number };
  outbox_dropped: OutboxFields & Err & { attempts: number };
  outbox_error: Msg;
  /** Pending entries of an older on-disk format moved into the outbox once. */
  outbox_migrated: { from: string; entries: number };
  session_error: Msg & { session_id: string };
  pulse_approval_announced: { token: string; target: string; error?: string };
  /** Optional OTLP export: started, degraded (SDK missing, bad endpoint), or lossy at shutdown. */
  observability_init: { status: 'ok' | 'degraded'; otlp_endpoint?: string; message?: string };
  /** An approval command from an operator chat (/approve, /reject, /pending). */
  operator_command: { channel: string; chat_id: string; command: string; status: string };
  /** One step of a skill generation (start, generate, validate, approval, promote, finish). */
  evolution_skill: { skill: string; step: string; attempt: number | null; status: string; error?: string };
  observability_shutdown: { status: string; recorded: number; dropped: number; export_failures: number };
  /** Self-update (docs/evolution.md). */
  evolution_checkpoint: { status: string };
  evolution_lock_recovered: { lock: string; age_secs: number | null; stale_after_secs: number | null; holder_alive: boolean | null };
  evolution_lock_release_error: Msg;
  evolution_failure_circuit_error: Msg;
  evolution_serve_handover: { running_slot: string; reason: string; exit_code: number };
  evolution_serve_confirmed: { slot: string; version: string };
}

export type EventName = keyof EventCatalogue;
