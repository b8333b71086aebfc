// The apply failure circuit (`updates/apply-failure-circuit.json`, reference §4.15): N failed
// applies in a row open it, and apply refuses until an operator resets it.
import { readFileSync } from 'node:fs';
import { emitEvent } from '../../observe/index.js';
import { EvolutionError } from '../errors.js';
import { isNotFound, nowStamp, writeFileAtomic } from '../fs-util.js';

export interface CircuitState {
  consecutive_failures: number;
  circuit_open: boolean;
  last_failure_at: string | null;
  last_failure_status: string | null;
  last_failure_error: string | null;
  last_success_at: string | null;
  last_reset_at: string | null;
}

export interface CircuitReport extends CircuitState {
  circuit_path: string;
  state_exists: boolean;
  threshold: number | null;
}

const EMPTY: CircuitState = { consecutive_failures: 0, circuit_open: false, last_failure_at: null, last_failure_status: null, last_failure_error: null, last_success_at: null, last_reset_at: null };

export class FailureCircuit {
  constructor(
    readonly path: string,
    /** 0 disables. */
    private readonly threshold: number,
  ) {}

  private read(): { state: CircuitState; exists: boolean } {
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<CircuitState>;
      const n = Number(raw.consecutive_failures);
      return {
        exists: true,
        state: {
          ...EMPTY,
          ...raw,
          consecutive_failures: Number.isSafeInteger(n) && n >= 0 ? n : 0,
          circuit_open: raw.circuit_open === true,
        },
      };
    } catch (err) {
      if (!isNotFound(err)) emitEvent('evolution_failure_circuit_error', { message: `unreadable circuit state ${this.path} treated as open: ${(err as Error).message}` });
      // A corrupt file must not silently close the circuit.
      return isNotFound(err) ? { state: { ...EMPTY }, exists: false } : { state: { ...EMPTY, circuit_open: true }, exists: true };
    }
  }

  private write(s: CircuitState): void {
    try {
      writeFileAtomic(this.path, JSON.stringify(s, null, 2) + '\n', `${this.path}.tmp`);
    } catch (err) {
      emitEvent('evolution_failure_circuit_error', { message: (err as Error).message });
    }
  }

  report(): CircuitReport {
    const { state, exists } = this.read();
    const open = (this.threshold > 0 && state.consecutive_failures >= this.threshold) || state.circuit_open;
    return { circuit_path: this.path, state_exists: exists, threshold: this.threshold > 0 ? this.threshold : null, ...state, circuit_open: open };
  }

  /** Throws the original's refusal when open. */
  assertClosed(): void {
    const r = this.report();
    if (!r.circuit_open) return;
    throw new EvolutionError(
      `evolution apply is blocked by failure circuit after ${r.consecutive_failures} consecutive failures (threshold ${r.threshold ?? 'disabled'}). Inspect with 'evolution failure-circuit-status' and reset with 'evolution failure-circuit-reset --confirm' after remediation`,
    );
  }

  failure(status: string, error: string | null): void {
    const { state } = this.read();
    const n = state.consecutive_failures + 1;
    this.write({ ...state, consecutive_failures: n, circuit_open: this.threshold > 0 && n >= this.threshold, last_failure_at: nowStamp(), last_failure_status: status, last_failure_error: error });
  }

  success(): void {
    const { state } = this.read();
    this.write({ ...state, consecutive_failures: 0, circuit_open: false, last_success_at: nowStamp() });
  }

  reset(): CircuitReport {
    const { state } = this.read();
    this.write({ ...state, consecutive_failures: 0, circuit_open: false, last_reset_at: nowStamp() });
    return this.report();
  }
}
