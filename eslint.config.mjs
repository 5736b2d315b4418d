// @ts-check
// `npm run lint`: ESLint's and typescript-eslint's recommended rules — the ones that need no type
// information, so linting the whole repository stays a matter of seconds — plus a few rules this code
// follows on purpose. tsc (`npm run typecheck`, strict) remains the type checker; ESLint catches what
// it does not: loose equality, unused bindings, value imports used only as types, suspicious statements.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'test/vscode/node_modules/**',
      'test/vscode/.node24/**',
      'test-artifacts/**',
      '.mrl/**',
      'src/trainer/runtime/kernels/assembly/**',
    ],
  },
  {
    files: ['src/**/*.ts', 'webview/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'test/**/*.mjs', '*.mjs'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // `==` only where meant: none is; `x == null` reads as a bug here, write `=== null || === undefined`.
      eqeqeq: ['error', 'always'],
      // Unused bindings are errors; a leading underscore marks one kept on purpose (a callback's signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // `import { type X }` / `import type`: type-only imports vanish from the bundles for certain (the
      // webview bundle must not pull Node or Chart.js code into modules that only need a type).
      // `typeof import('…')` stays allowed: the host tests require() modules after installing a fake vscode.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // Off: `any` is the honest type of page.evaluate() round trips in the browser tests and of Chart.js's
      // scriptable options (100+ places); typing them is not a mechanical change.
      '@typescript-eslint/no-explicit-any': 'off',
      // `let x; … closure reading x …; x = …` (src/host/extension.ts) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `cond ? a() : b()` as a statement is used deliberately (src/data/batches.ts).
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
      // Best-effort cleanup (`try { … } catch {}`) in the e2e harness is deliberate.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Bundled code (esbuild): jsonc-parser's package "main" is a UMD build whose require('./impl/…') calls
    // esbuild cannot follow, so the bundled extension would fail to activate. Its ESM build bundles.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'jsonc-parser', message: "Import 'jsonc-parser/lib/esm/main.js' (the UMD main breaks the esbuild bundle)." }] },
      ],
    },
  },
  {
    // The tokenizer's normaliser and pre-tokenizer strip control characters on purpose (BERT's clean_text).
    files: ['src/trainer/tokenizer/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Host-side unit tests load modules with require() after installing a fake `vscode` module.
    files: ['test/unit/*.test.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // require(): tfjs-node(-gpu) is an optional run-time backend, never bundled (esbuild.mjs).
    files: ['src/trainer/runtime/backend.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
