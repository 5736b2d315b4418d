// @ts-check
// `npm run lint:typed`: the base rules (eslint.config.mjs) plus the type-aware promise rules. They need
// the TypeScript program: ≈ 28 s CPU against ≈ 10 s for `npm run lint`, and 40 s–1.5 min wall on the
// shared 2-core machine, so they are a separate, opt-in run. Both pass on the current code.
import base from './eslint.config.mjs';
import tseslint from 'typescript-eslint';

export default tseslint.config(...base, {
  files: ['src/**/*.ts', 'webview/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
  languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  rules: {
    // A promise nobody awaits loses its rejection. node:test's test()/describe() return promises the
    // runner itself tracks, so they are known-safe.
    '@typescript-eslint/no-floating-promises': [
      'error',
      {
        allowForKnownSafeCalls: [
          {
            from: 'package',
            package: 'node:test',
            name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
          },
        ],
      },
    ],
    // An async function where a void callback is expected (event handlers, forEach) drops its errors.
    '@typescript-eslint/no-misused-promises': 'error',
  },
});
