// Lint rules: ESLint's and typescript-eslint's recommended sets. Formatting is Prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "plans/", "test-results.json", ".local/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { __dirname: "readonly", require: "readonly", module: "readonly", process: "readonly" },
    },
    rules: {
      // Resources are created for their effect on the stack, not for a value: `new X(...)` on its own line.
      "no-new": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
);
