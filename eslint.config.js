import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'test/artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    // CLIs, emulators' launchers and benchmarks talk to a terminal on purpose.
    files: ['services/producer/src/**', 'packages/emulators/src/main.ts', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // `import { type X }` with nothing else compiles to `import {}`, which still loads the module: the CLI loads only
    // what the command being run uses.
    files: ['services/producer/src/**'],
    rules: { '@typescript-eslint/no-import-type-side-effects': 'error' },
  },
);
