/** `pollard export`: TensorFlow.js layers (optionally quantized), Keras 2 .h5, or ONNX float32/int8. */
import { type Command, Option } from 'commander';
import {
  CALIBRATION_METHODS,
  EXPORT_QUANT_DTYPES,
  exportModelSpecSchema,
  type JobSpecInput,
  MODEL_FORMATS_OUT,
  ONNX_LAYOUTS,
} from '../../../shared/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  integer,
  parseSpec,
  withCommon,
  withDefault,
} from '../options';

const DEFAULTS = exportModelSpecSchema.parse({ kind: 'export-model', model: '-', format: 'onnx', to: '-' });

interface ExportFlags extends CommonFlags {
  model: string;
  format: string;
  to: string;
  quantize?: string;
  layout?: string;
  data?: string;
  calibration?: number;
  calibrationMethod?: string;
}

function exportCommand(program: Command): Command {
  return program
    .command('export')
    .description(
      'write a model as TensorFlow.js layers (optionally quantized), Keras 2 .h5, or ONNX (float32 or int8)',
    )
    .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
    .addOption(
      new Option('--format <format>', 'output format').choices([...MODEL_FORMATS_OUT]).makeOptionMandatory(),
    )
    .requiredOption('--to <path>', 'output folder (tfjs), .h5 file (keras-h5) or .onnx file (onnx)', absolute)
    .addOption(
      new Option(
        '--quantize <dtype>',
        "tfjs: store weights as (default: the model's own stored type); onnx: int8 (static QDQ)",
      ).choices([...EXPORT_QUANT_DTYPES]),
    )
    .addOption(
      new Option('--layout <layout>', withDefault('onnx: input layout', DEFAULTS.layout)).choices([
        ...ONNX_LAYOUTS,
      ]),
    )
    .option(
      '--data <path>',
      'onnx int8: dataset to calibrate on (training split) and evaluate (test split)',
      absolute,
    )
    .option(
      '--calibration <n>',
      withDefault('onnx int8: calibration samples', DEFAULTS.calibration),
      integer(1),
    )
    .addOption(
      new Option(
        '--calibration-method <method>',
        withDefault('onnx int8: activation ranges', DEFAULTS.calibrationMethod),
      ).choices([...CALIBRATION_METHODS]),
    );
}

export function addExportCommand(program: Command, action: ActionOf): void {
  withCommon(exportCommand(program)).action(
    action(async (flags: ExportFlags) =>
      parseSpec({
        kind: 'export-model',
        model: flags.model,
        format: flags.format,
        to: flags.to,
        ...(flags.quantize ? { quantize: flags.quantize } : {}),
        ...(flags.layout ? { layout: flags.layout } : {}),
        ...(flags.data ? { data: flags.data } : {}),
        ...(flags.calibration !== undefined ? { calibration: flags.calibration } : {}),
        ...(flags.calibrationMethod ? { calibrationMethod: flags.calibrationMethod } : {}),
        ...common(flags),
      } as JobSpecInput),
    ),
  );
}
