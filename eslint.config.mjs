import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // ml-service/wasm is AssemblyScript (decorators, v128 types): its own compiler, asc, checks it.
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nuxt/**', '**/.output/**', 'data/**', '**/*.vue', 'docs/**', 'ml-service/wasm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', performance: 'readonly', structuredClone: 'readonly', module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
);
