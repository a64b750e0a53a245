import js from '@eslint/js';
import pluginVue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

// Layout rules of eslint-plugin-vue that prettier owns (the frontend's lint runs `prettier --check`).
const vueLayoutOff = Object.fromEntries(
  [
    'vue/html-indent',
    'vue/max-attributes-per-line',
    'vue/singleline-html-element-content-newline',
    'vue/multiline-html-element-content-newline',
    'vue/html-closing-bracket-newline',
    'vue/html-closing-bracket-spacing',
    'vue/html-self-closing',
    'vue/first-attribute-linebreak',
    'vue/html-quotes',
    'vue/mustache-interpolation-spacing',
    'vue/no-multi-spaces',
    'vue/no-spaces-around-equal-signs-in-attribute',
  ].map((r) => [r, 'off']),
);

export default tseslint.config(
  // ml-service/wasm is AssemblyScript (decorators, v128 types): its own compiler, asc, checks it.
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.nuxt/**',
      '**/.output/**',
      'data/**',
      'docs/**',
      'ml-service/wasm/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
    rules: {
      ...vueLayoutOff,
      // Nuxt auto-imports (ref, computed, useI18n…) are not declared in the file; vue-tsc checks names instead.
      'no-undef': 'off',
      // Nuxt names pages and layouts by route (index.vue, login.vue, default.vue).
      'vue/multi-word-component-names': 'off',
    },
  },
);
