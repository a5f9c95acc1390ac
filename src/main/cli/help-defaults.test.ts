import { describe, expect, it } from 'vitest';
import { buildProgram } from './main';

/** Options whose absence means something other than a default value (a required input, or "not given"). */
const NO_DEFAULT = new Set([
  '--model',
  '--data',
  '--out',
  '--to',
  '--format',
  '--resume',
  '--arch',
  '--method',
  '--target-macs',
  '--target-params',
  '--sparsity',
  '--dense-run',
  '--grid-intensity',
  '--host',
]);

function program() {
  return buildProgram(
    () => Promise.resolve(0),
    () => undefined,
  );
}

describe('pollard --help', () => {
  it('shows the default of every option that takes a value, for every command', () => {
    const missing: string[] = [];
    for (const command of program().commands) {
      for (const option of command.options) {
        const takesValue = option.required || option.optional;
        if (!takesValue || option.mandatory || option.defaultValue !== undefined) continue;
        if (NO_DEFAULT.has(option.long ?? '')) continue;
        if (!option.description.includes('(default:')) missing.push(`${command.name()} ${option.long}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('shows the schema defaults of train, export, sensitivity and demo', () => {
    const help = (name: string): string =>
      program()
        .commands.find((c) => c.name() === name)!
        .helpInformation()
        .replace(/\s+/g, ' ');
    expect(help('train')).toContain('--epochs <n> epochs (default: 5)');
    expect(help('train')).toContain('--lr <rate> learning rate (default: 0.003)');
    expect(help('train')).toContain('--schedule <kind> learning-rate schedule (default: cosine)');
    expect(help('train')).toContain(
      '--bn-l1 <lambda> prune while training: L1 penalty on BN scales (default: 0.0001)',
    );
    expect(help('export')).toContain('--calibration <n> onnx int8: calibration samples (default: 256)');
    expect(help('export')).toContain('--layout <layout> onnx: input layout (default: nchw)');
    expect(help('sensitivity')).toContain('--samples <n> validation samples per measurement (default: 1000)');
    expect(help('demo')).toContain('--epochs <n> baseline training epochs (default: 3)');
    expect(help('compress')).toContain('(default: quick)');
  });
});
