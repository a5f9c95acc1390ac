// Lint enforces the process boundaries from ARCHITECTURE.md: a file's folder says which
// process it runs in and therefore what it may import.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/promises',
  'path',
  'os',
  'child_process',
  'crypto',
  'stream',
  'url',
  'util',
  'zlib',
  'worker_threads',
  'http',
  'https',
  'net',
];
const electron = {
  group: ['electron', 'electron/*'],
  message: 'Only src/main/electron and src/preload import electron.',
};
const tfjs = {
  group: ['@tensorflow/*'],
  message: 'Only the engine (src/main/engine) imports TensorFlow.js.',
};
const tfjsNodeStatic = {
  group: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  message: 'tfjs-node is optional: load it lazily with import() inside the job process (engine/backend).',
};
const builtins = { group: nodeBuiltins, message: 'This folder runs where Node is not available.' };
/** Engine folders that the report is built on; they may not import engine/report. */
const engineBelowReport = ['compress', 'train', 'model', 'data', 'energy', 'onnx', 'backend'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'runs/**',
      'resources/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', { patterns: [electron, tfjsNodeStatic] }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            tfjs,
            builtins,
            {
              group: ['**/main/**', '**/renderer/**', '**/preload/**'],
              message: 'src/shared is imported by everyone and imports nobody.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            tfjs,
            builtins,
            {
              group: ['**/main/**', '**/preload/**'],
              message: 'The renderer talks to the rest only through PollardApi (src/shared/api.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/services/**', 'src/main/cli/**', 'src/main/serve/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { ...electron, allowTypeImports: true },
            tfjs,
            {
              group: ['**/engine/**'],
              allowTypeImports: true,
              message: 'Engine code runs in the job process; reach it through a job.',
            },
          ],
        },
      ],
    },
  },
  {
    // The report presents what the engine measured; measuring code never reaches up into it.
    files: engineBelowReport.map((folder) => `src/main/engine/${folder}/**`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            tfjsNodeStatic,
            {
              group: ['**/report', '**/report/**'],
              message:
                'engine/report presents results and sits above the engine: move what is shared into engine/energy (or the folder it measures).',
            },
          ],
        },
      ],
    },
  },
  {
    // Engine layering: the jobs import job/context.ts; job/handlers.ts (and the worker above it)
    // import the jobs, never the other way round.
    files: ['src/main/engine/{model,train,compress,data,energy,onnx,backend,util}/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            tfjsNodeStatic,
            {
              group: ['**/job/handlers', '**/job/handlers.ts', '**/job/worker', '**/job/worker.ts'],
              message:
                'Engine code sits below the job dispatch: import job/context.ts, never job/handlers.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/electron/**', 'src/preload/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [tfjs, tfjsNodeStatic] }] },
  },
  {
    files: ['src/preload/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
