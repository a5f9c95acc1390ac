/**
 * Progress on stderr: on a terminal one line redrawn in place (a bar with ETA); otherwise
 * one plain line per stage and epoch, so logs and CI output stay readable.
 */
import type { JobEvent } from '../../shared/jobs';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function bar(fraction: number, width = 24): string {
  const clamped = Math.min(Math.max(fraction, 0), 1);
  const filled = Math.round(clamped * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export class ProgressPrinter {
  private live = false;
  private stage = '';

  constructor(
    private readonly stream: ProgressStream,
    private readonly verbose = false,
  ) {}

  handle(event: JobEvent): void {
    switch (event.type) {
      case 'started':
        this.line(
          `backend: ${event.backend.used} (${event.backend.device})${event.runDir ? ` · run: ${event.runDir}` : ''}`,
        );
        break;
      case 'stage':
        this.stage = event.stage;
        this.line(`${event.stage}${event.detail ? `: ${event.detail}` : ''}`);
        break;
      case 'progress': {
        const fraction = event.total > 0 ? event.done / event.total : 0;
        const eta = event.etaSeconds !== undefined ? ` ETA ${formatDuration(event.etaSeconds)}` : '';
        this.redraw(`${event.stage} ${bar(fraction)} ${event.done}/${event.total}${eta}`);
        break;
      }
      case 'batch': {
        const total = event.epochs * event.batches;
        const done = (event.epoch - 1) * event.batches + event.batch;
        this.redraw(
          `${this.stage || 'train'} ${bar(done / total)} epoch ${event.epoch}/${event.epochs} batch ${event.batch}/${event.batches}` +
            ` loss ${event.loss.toFixed(4)} acc ${percent(event.accuracy)} ${Math.round(event.samplesPerSecond)} samples/s` +
            ` ETA ${formatDuration(event.etaSeconds)}`,
        );
        break;
      }
      case 'epoch': {
        const validation =
          event.valAccuracy !== undefined
            ? ` · val loss ${event.valLoss?.toFixed(4)} val acc ${percent(event.valAccuracy)}`
            : '';
        this.line(
          `epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)} acc ${percent(event.accuracy)}${validation}` +
            ` · ${event.seconds.toFixed(1)} s, ${Math.round(event.samplesPerSecond)} samples/s`,
        );
        break;
      }
      case 'log':
        if (event.level === 'warn' || event.level === 'error' || this.verbose)
          this.line(`${event.level}: ${event.message}`);
        break;
      case 'checkpoint':
        if (this.verbose) this.line(`checkpoint: ${event.path}`);
        break;
      case 'cancelled':
        this.line('cancelled');
        break;
      default:
        break;
    }
  }

  /** Clear the live line before the final output. */
  end(): void {
    if (this.live) this.stream.write('\r\x1b[2K');
    this.live = false;
  }

  private redraw(text: string): void {
    if (!this.stream.isTTY) return;
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 1) : text}`);
    this.live = true;
  }

  private line(text: string): void {
    this.end();
    this.stream.write(text + '\n');
  }
}
