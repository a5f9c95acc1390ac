/**
 * Overhead of energy metering on training: a small MLP trained on the wasm backend (batch 64),
 * with and without `meter.sample()` after every batch, which is what the training loop does.
 *
 *   npx tsx bench/energy-overhead.bench.ts [--batches N] [--rounds N]
 *
 * Meter configurations (what this machine lacks is simulated, so every code path is timed):
 *   - counters: RAPL on a sysfs-shaped tree in a temp folder (package + DRAM), NVML energy counters
 *     through koffi on a compiled stand-in library (needs `cc`), and the CPU TDP model;
 *   - sampled: RAPL as above, GPU power from an nvidia-smi stand-in child printing every 100 ms
 *     (the poller a machine without NVML uses), and the CPU TDP model.
 * Runs alternate (none, none again, counters, sampled, rotated each round); each metered run is compared
 * with the unmetered run of the same round, in wall time and in this process's CPU time (less
 * disturbed by other processes on a shared machine), and the median of those ratios is shown;
 * `none again`, a second unmetered run, shows how much of that is noise.
 * The cost of one full read of every source is timed directly too: sample() makes at most one
 * every 100 ms, so that cost over 100 ms bounds the in-thread overhead without run-to-run noise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/engine/backend/ladder';
import { CpuTdpSource } from '../src/main/engine/energy/cpu-tdp';
import { EnergyMeter } from '../src/main/engine/energy/meter';
import { NvidiaSmiSource } from '../src/main/engine/energy/nvidia-smi';
import { loadNvmlWithKoffi, NvmlSource } from '../src/main/engine/energy/nvml';
import { RaplSource } from '../src/main/engine/energy/rapl';
import { quantile } from '../src/main/engine/energy/stats';
import type { EnergySource } from '../src/main/engine/energy/types';
import { tf, tfl } from '../src/main/engine/tf';

const { values } = parseArgs({
  options: { batches: { type: 'string', default: '100' }, rounds: { type: 'string', default: '9' } },
});
const BATCHES = Number(values.batches);
const ROUNDS = Number(values.rounds);
const BATCH = 64;

const backend = await initBackend('wasm');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pollard-energy-bench-'));

// RAPL tree as the kernel lays it out.
const powercap = path.join(scratch, 'powercap');
for (const [zone, name] of [
  ['intel-rapl:0', 'package-0'],
  ['intel-rapl:0:0', 'dram'],
]) {
  mkdirSync(path.join(powercap, zone!), { recursive: true });
  writeFileSync(path.join(powercap, zone!, 'name'), `${name}\n`);
  writeFileSync(path.join(powercap, zone!, 'energy_uj'), '123456789\n');
  writeFileSync(path.join(powercap, zone!, 'max_energy_range_uj'), '262143328850\n');
}

let nvmlLibrary: string | null = null;
try {
  const fake = fileURLToPath(new URL('../src/main/engine/energy/fake-nvml.c', import.meta.url));
  nvmlLibrary = path.join(scratch, 'libfake-nvml.so');
  execFileSync('cc', ['-shared', '-fPIC', '-o', nvmlLibrary, fake]);
} catch {
  nvmlLibrary = null;
}

const smi = path.join(scratch, 'nvidia-smi');
writeFileSync(
  smi,
  `#!/usr/bin/env node
const pad = (n, w = 2) => String(n).padStart(w, '0');
const line = () => { const d = new Date();
  const ts = d.getFullYear() + '/' + pad(d.getMonth() + 1) + '/' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  process.stdout.write(ts + ', 0, 215.50, Stand-in GPU\\n'); };
const i = process.argv.indexOf('-lms');
if (i < 0) line(); else setInterval(line, Number(process.argv[i + 1]));
`,
);
chmodSync(smi, 0o755);

const configurations: Record<string, () => EnergySource[]> = {
  counters: () => [
    new RaplSource({ root: powercap, platform: 'linux' }),
    ...(nvmlLibrary ? [new NvmlSource({ load: () => loadNvmlWithKoffi(nvmlLibrary!) })] : []),
    new CpuTdpSource(),
  ],
  sampled: () => [
    new RaplSource({ root: powercap, platform: 'linux' }),
    new NvidiaSmiSource({ executable: smi }),
    new CpuTdpSource(),
  ],
};

// The workload: a 784-256-128-10 MLP, one Adam step per batch, the loss read back each batch.
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    tfl.layers.dense({ units: 128, activation: 'relu' }),
    tfl.layers.dense({ units: 10 }),
  ],
});
const optimizer = tf.train.adam(1e-3);
const xs = tf.randomUniform([BATCH, 784], 0, 1, 'float32', 7);
const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 8), 10);
const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
/** One Adam step; the loss is read back asynchronously, as the training loop does each batch. */
async function step(): Promise<number> {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(xs, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, variables);
    optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
    return tf.keep(value);
  });
  const [value] = await loss.data();
  loss.dispose();
  return value as number;
}

interface RunTime {
  /** Wall-clock ms per batch. */
  wall: number;
  /** CPU ms per batch of this process (user + system): less disturbed by other processes. */
  cpu: number;
}

/** Time per batch over one run; `meter` is sampled after every batch when given. */
async function run(meter: EnergyMeter | null): Promise<RunTime> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let batch = 0; batch < BATCHES; batch++) {
    await step();
    if (meter) meter.sample();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / BATCHES, cpu: (cpu.user + cpu.system) / 1000 / BATCHES };
}

for (let i = 0; i < 20; i++) await step(); // warm-up

const meters: Record<string, EnergyMeter> = {};
for (const [name, sources] of Object.entries(configurations)) {
  meters[name] = await EnergyMeter.start({ sources: sources() });
  await meters[name]!.settledSnapshot();
}
// `none again` is a second unmetered run per round: its difference from `none` is the noise floor.
const names = ['none', 'none again', ...Object.keys(configurations)];
const times: Record<string, RunTime[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!;
    times[name]!.push(await run(meters[name] ?? null));
  }
}

/** CPU microseconds per call of `call`, in a tight loop (CPU time: immune to other processes). */
function microsPerCall(call: () => void, n = 5000): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) call();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}
// A full read of every source (what sample() does at most every 100 ms, and the epoch edges do).
const readMicros: Record<string, number> = {};
for (const [name, meter] of Object.entries(meters)) {
  readMicros[name] = microsPerCall(() => meter.window(meter.startSnapshot, meter.snapshot()));
}
const live = Object.fromEntries(Object.entries(meters).map(([name, meter]) => [name, meter.sample()]));
const opened = Object.fromEntries(
  Object.entries(meters).map(([name, meter]) => [
    name,
    meter.states
      .filter((state) => state.status === 'open')
      .map((state) => state.id)
      .join(' + '),
  ]),
);
for (const meter of Object.values(meters)) await meter.stop();

const median = (list: number[]): number =>
  quantile(
    [...list].sort((a, b) => a - b),
    0.5,
  );
const percent = (value: number): string => `${(value * 100).toFixed(2)} %`;
const baseWall = median(times.none!.map((time) => time.wall));
console.log(
  `Energy metering overhead: ${backend.device}, MLP 784-256-128-10, batch ${BATCH}, ${BATCHES} batches × ${ROUNDS} rounds, sample() after every batch`,
);
console.log('');
console.log(
  '| meter | sources | wall ms/batch, median (min–max) | CPU ms/batch, median | overhead, paired per round: wall / CPU (median) | full read, CPU µs | full read every 100 ms (as sample() does), share of time | full read every batch, share of batch CPU |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const name of names) {
  const list = times[name]!;
  const walls = list.map((time) => time.wall);
  const row = [
    name,
    opened[name] ?? (name === 'none again' ? '— (control)' : '—'),
    `${median(walls).toFixed(3)} (${Math.min(...walls).toFixed(3)}–${Math.max(...walls).toFixed(3)})`,
    median(list.map((time) => time.cpu)).toFixed(3),
  ];
  if (name === 'none') row.push('—', '—', '—', '—');
  else if (readMicros[name] === undefined) {
    const wallRatio = median(list.map((time, round) => time.wall / times.none![round]!.wall - 1));
    const cpuRatio = median(list.map((time, round) => time.cpu / times.none![round]!.cpu - 1));
    row.push(`${percent(wallRatio)} / ${percent(cpuRatio)} (noise floor)`, '—', '—', '—');
  } else {
    const wallRatio = median(list.map((time, round) => time.wall / times.none![round]!.wall - 1));
    const cpuRatio = median(list.map((time, round) => time.cpu / times.none![round]!.cpu - 1));
    const micros = readMicros[name]!;
    const batchCpu = median(times.none!.map((time) => time.cpu));
    row.push(
      `${percent(wallRatio)} / ${percent(cpuRatio)}`,
      micros.toFixed(1),
      percent(micros / 1000 / 100),
      percent(micros / 1000 / batchCpu),
    );
  }
  console.log(`| ${row.join(' | ')} |`);
}
console.log('');
console.log(`Baseline: ${baseWall.toFixed(3)} ms per batch without a meter.`);
for (const [name, sample] of Object.entries(live)) {
  const total = sample.total;
  console.log(
    `${name}: last sample ${total.label} ${total.joules === null ? `unavailable (${total.reason})` : `${total.joules.toFixed(3)} J`}, ${sample.watts === null ? 'watts unknown' : `${sample.watts.toFixed(2)} W`} (${total.source}); stand-in values, not this machine's power`,
  );
}
if (!nvmlLibrary) console.log('NVML stand-in not built (no cc): the counters configuration ran without it.');

xs.dispose();
labels.dispose();
rmSync(scratch, { recursive: true, force: true });
