#!/usr/bin/env node
// `npm run check:electron`: Doyensec's Electronegativity over the Electron main process,
// preload and renderer sources (src/), high- and medium-severity findings only. A finding
// passes only where scripts/electronegativity-reviewed.json names its check and file with the
// reason it does not apply; any other finding fails the check, and so does a reviewed entry that
// no longer matches a finding (the list must not outlive the code it excuses).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const electronVersion = require('electron/package.json').version;
const reviewedFile = path.join(root, 'scripts', 'electronegativity-reviewed.json');

/** One CSV record per line; quoted fields may hold commas and doubled quotes. */
function parseCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

function scan() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-electronegativity-'));
  const out = path.join(dir, 'findings.csv');
  try {
    const cli = require.resolve('@doyensec/electronegativity/dist/index.js');
    const shim = pathToFileURL(path.join(root, 'scripts', 'electronegativity-commander.mjs')).href;
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        shim,
        cli,
        '-i',
        path.join(root, 'src'),
        '-e',
        electronVersion,
        '-s',
        'medium',
        '-r',
        '-o',
        out,
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (run.status !== 0) {
      throw new Error(`electronegativity exited with ${run.status}: ${(run.stderr || run.stdout).trim()}`);
    }
    const [, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    return rows.map((line) => {
      const [check, severity, confidence, file, location] = parseCsvLine(line);
      return { check, severity, confidence, file, location };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const reviewed = JSON.parse(readFileSync(reviewedFile, 'utf8'));
const findings = scan();
const key = (f) => `${f.check} ${f.file}`;
const excused = new Map(reviewed.map((r) => [key(r), r]));
const open = findings.filter((f) => !excused.has(key(f)));
const found = new Set(findings.map(key));
const stale = reviewed.filter((r) => !found.has(key(r)));

console.log(
  `electronegativity (Electron ${electronVersion}): ${findings.length} high/medium finding(s), ` +
    `${findings.length - open.length} reviewed`,
);
for (const f of findings.filter((f) => excused.has(key(f)))) {
  console.log(
    `  reviewed  ${f.severity.padEnd(6)} ${f.check} ${f.file}:${f.location} — ${excused.get(key(f)).reason}`,
  );
}
for (const f of open) console.log(`  OPEN      ${f.severity.padEnd(6)} ${f.check} ${f.file}:${f.location}`);
for (const r of stale)
  console.log(`  STALE     ${r.check} ${r.file}: no such finding any more; remove it from the list`);
if (open.length > 0 || stale.length > 0) {
  console.error(
    `electronegativity: ${open.length} unreviewed finding(s), ${stale.length} stale review(s) in ${path.relative(root, reviewedFile)}`,
  );
  process.exitCode = 1;
}
