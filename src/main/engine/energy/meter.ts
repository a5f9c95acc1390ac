/**
 * A metering session: open every source that works (measured sources never overlap: once NVML
 * measures the GPU, nvidia-smi is not started), snapshot cheaply at window edges (every batch in
 * training), and turn two snapshots into labelled figures. The headline figure prefers measured
 * sources (their sum, which never double counts) over the CPU model; an unavailable figure has
 * `joules: null` and a reason, never 0.
 */
import type { LiveEnergy } from '../../../shared/jobs';
import type { EnergyFigure, EnergyLabel } from '../../../shared/types';
import { defaultEnergySources } from './sources';
import {
  errorMessage,
  systemClock,
  type Clock,
  type EnergyPart,
  type EnergyReader,
  type EnergySource,
  type ReaderMark,
} from './types';

export interface MeterSourceState {
  id: string;
  name: string;
  kind: 'measured' | 'modelled';
  covers: readonly EnergyPart[];
  /** `covered`: not opened because another measured source already measures its parts. */
  status: 'open' | 'unavailable' | 'covered';
  label: EnergyLabel;
  /** What is read (open sources). */
  source?: string;
  reason?: string;
}

export interface EnergySnapshot {
  at: number;
  marks: Record<string, ReaderMark>;
}

export interface SourceWindow {
  id: string;
  kind: 'measured' | 'modelled';
  figure: EnergyFigure;
  averageWatts: number | null;
  /** Idle power recorded for this source, where known. */
  idleWatts?: number | null;
  /** Gross minus idle power × duration; null where either is unknown. */
  netJoules?: number | null;
}

export interface EnergyWindow {
  from: number;
  to: number;
  seconds: number;
  /** Every source, opened or not, in preference order. */
  sources: SourceWindow[];
  /** Measured sources added up where there are any, else the CPU model, else unavailable. */
  total: EnergyFigure;
  /** The ids that make up `total`. */
  totalIds: string[];
  totalNetJoules?: number | null;
}

/** Idle power per source id (W), as measured by the protocol before a run. */
export type IdlePower = Record<string, number | null>;

export interface MeterOptions {
  sources?: EnergySource[];
  clock?: Clock;
  /** `sample()` reads the sources at most this often and repeats its last answer in between. Default 100 ms. */
  sampleIntervalMs?: number;
}

interface OpenSource {
  state: MeterSourceState;
  reader: EnergyReader;
}

function weakest(labels: EnergyLabel[]): EnergyLabel {
  return labels.includes('measured:sampled') ? 'measured:sampled' : 'measured:counter';
}

export class EnergyMeter {
  readonly states: MeterSourceState[];
  private readonly open: OpenSource[];
  private readonly clock: Clock;
  private readonly start: EnergySnapshot;
  private stopped: EnergyWindow | null = null;
  private readonly sampleIntervalMs: number;
  private lastSample: { at: number; live: LiveEnergy } | null = null;

  private constructor(
    states: MeterSourceState[],
    open: OpenSource[],
    clock: Clock,
    sampleIntervalMs: number,
  ) {
    this.states = states;
    this.open = open;
    this.clock = clock;
    this.sampleIntervalMs = sampleIntervalMs;
    this.start = this.snapshot();
  }

  static async start(options: MeterOptions = {}): Promise<EnergyMeter> {
    const sources = options.sources ?? defaultEnergySources({ clock: options.clock });
    const states: MeterSourceState[] = [];
    const open: OpenSource[] = [];
    const measured = new Map<EnergyPart, string>();
    for (const source of sources) {
      const base = { id: source.id, name: source.name, kind: source.kind, covers: source.covers };
      const overlap =
        source.kind === 'measured' ? source.covers.find((part) => measured.has(part)) : undefined;
      if (overlap !== undefined) {
        states.push({
          ...base,
          status: 'covered',
          label: 'unavailable',
          reason: `not started: ${measured.get(overlap)} already measures the ${overlap}`,
        });
        continue;
      }
      try {
        const reader = await source.open();
        const state: MeterSourceState = {
          ...base,
          status: 'open',
          label: reader.label,
          source: reader.source,
        };
        states.push(state);
        open.push({ state, reader });
        if (source.kind === 'measured') for (const part of reader.covers) measured.set(part, source.id);
      } catch (error) {
        states.push({ ...base, status: 'unavailable', label: 'unavailable', reason: errorMessage(error) });
      }
    }
    return new EnergyMeter(states, open, options.clock ?? systemClock, options.sampleIntervalMs ?? 100);
  }

  /** Reads every open source now: microseconds for counters and the CPU model. */
  snapshot(): EnergySnapshot {
    const marks: Record<string, ReaderMark> = {};
    for (const { state, reader } of this.open) marks[state.id] = reader.mark();
    return { at: this.clock(), marks };
  }

  /** A snapshot taken once power samplers have caught up with it (they lag by one interval). */
  async settledSnapshot(): Promise<EnergySnapshot> {
    const snapshot = this.snapshot();
    await Promise.all(this.open.map(({ reader }) => reader.settle(snapshot.at)));
    return snapshot;
  }

  /**
   * Idle power of every open source where each knows it without a recording (see
   * `EnergyReader.idleWatts`); null where any open source needs its idle power recorded.
   */
  knownIdle(): IdlePower | null {
    const idle: IdlePower = {};
    for (const { state, reader } of this.open) {
      if (reader.idleWatts === undefined) return null;
      idle[state.id] = reader.idleWatts;
    }
    return this.open.length > 0 ? idle : null;
  }

  get startSnapshot(): EnergySnapshot {
    return this.start;
  }

  /** Labelled figures between two snapshots, idle-subtracted where idle power is given. */
  window(from: EnergySnapshot, to: EnergySnapshot, idle?: IdlePower): EnergyWindow {
    const seconds = (to.at - from.at) / 1000;
    const sources: SourceWindow[] = this.states.map((state): SourceWindow => {
      const opened = this.open.find((candidate) => candidate.state === state);
      if (!opened) {
        return {
          id: state.id,
          kind: state.kind,
          figure: {
            joules: null,
            label: 'unavailable',
            source: state.name,
            reason: state.reason ?? 'not opened',
          },
          averageWatts: null,
        };
      }
      const { reader } = opened;
      const a = from.marks[state.id];
      const b = to.marks[state.id];
      const joules = a && b ? reader.joulesBetween(a, b) : null;
      const figure: EnergyFigure =
        joules === null
          ? {
              joules: null,
              label: 'unavailable',
              source: reader.source,
              reason: reader.failure() ?? 'no data for this window',
            }
          : { joules, label: reader.label, source: reader.source };
      const window: SourceWindow = {
        id: state.id,
        kind: state.kind,
        figure,
        averageWatts: joules !== null && seconds > 0 ? joules / seconds : null,
      };
      if (idle && state.id in idle) {
        const idleWatts = idle[state.id] ?? null;
        window.idleWatts = idleWatts;
        window.netJoules = joules !== null && idleWatts !== null ? joules - idleWatts * seconds : null;
      }
      return window;
    });

    const measured = sources.filter((source) => source.kind === 'measured' && this.isOpen(source.id));
    const modelled = sources.filter((source) => source.kind === 'modelled' && this.isOpen(source.id));
    const chosen = measured.length > 0 ? measured : modelled.slice(0, 1);
    const result: EnergyWindow = {
      from: from.at,
      to: to.at,
      seconds,
      sources,
      total: this.unavailableTotal(),
      totalIds: [],
    };
    if (chosen.length === 0) return result;
    result.totalIds = chosen.map((source) => source.id);
    const missing = chosen.find((source) => source.figure.joules === null);
    const sourceText = chosen.map((source) => source.figure.source).join(' + ');
    if (missing) {
      result.total = {
        joules: null,
        label: 'unavailable',
        source: sourceText,
        reason: `${missing.id}: ${missing.figure.reason ?? 'no data'}`,
      };
      return result;
    }
    result.total = {
      joules: chosen.reduce((sum, source) => sum + source.figure.joules!, 0),
      label:
        measured.length > 0 ? weakest(chosen.map((source) => source.figure.label)) : chosen[0]!.figure.label,
      source: sourceText,
    };
    if (idle) {
      const nets = chosen.map((source) => source.netJoules);
      result.totalNetJoules = nets.every((net) => typeof net === 'number')
        ? nets.reduce<number>((sum, net) => sum + net!, 0)
        : null;
    }
    return result;
  }

  private isOpen(id: string): boolean {
    return this.open.some((candidate) => candidate.state.id === id);
  }

  private unavailableTotal(): EnergyFigure {
    const reasons = this.states.map((state) => `${state.id}: ${state.reason ?? 'not opened'}`).join('; ');
    return {
      joules: null,
      label: 'unavailable',
      source: 'no energy source',
      reason: reasons || 'no energy source',
    };
  }

  /**
   * Live power and energy since the meter started, for batch and epoch events. Cheap enough for
   * every batch: within `sampleIntervalMs` of the last reading it repeats that reading.
   */
  sample(): LiveEnergy {
    const now = this.clock();
    if (this.lastSample && now - this.lastSample.at < this.sampleIntervalMs) return this.lastSample.live;
    const window = this.window(this.start, this.snapshot());
    let watts: number | null = window.totalIds.length > 0 ? 0 : null;
    for (const id of window.totalIds) {
      const value = this.open.find((candidate) => candidate.state.id === id)?.reader.watts() ?? null;
      watts = watts === null || value === null ? null : watts + value;
    }
    const live = { watts, total: window.total };
    this.lastSample = { at: now, live };
    return live;
  }

  /** Closes every reader; the window covers the whole session. Idempotent. */
  async stop(idle?: IdlePower): Promise<EnergyWindow> {
    if (this.stopped) return this.stopped;
    const end = await this.settledSnapshot();
    this.stopped = this.window(this.start, end, idle);
    await Promise.all(this.open.map(({ reader }) => reader.close()));
    return this.stopped;
  }
}
