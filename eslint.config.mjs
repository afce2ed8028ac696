// ESLint over js/ (`npm run lint`, run by scripts/test.sh): typescript-eslint's recommended rules, React's
// rules of hooks, and the package boundaries of the npm workspaces (js/canvas, js/widget, js/lab).
// Formatting is prettier's business (`npm run format:check`), so no stylistic rules here.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["js/lab/lib/**", "**/node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["js/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      // The two classic hook rules. eslint-plugin-react-hooks 7's "recommended" set adds the React Compiler's
      // rules (purity, refs during render, set-state in effects, …), written for code the compiler will
      // optimise; this code base does not use the compiler, so they are not enabled.
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      // `_name` marks a parameter or binding kept for its position (callbacks, destructuring); tsc's
      // noUnusedLocals/noUnusedParameters check the rest.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Packages import each other by name: @dflow-lab/canvas/<module>, never a path into another package.
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["../canvas/*", "../../canvas/*"], message: "import the canvas as @dflow-lab/canvas/<module> (a declared dependency), not by relative path" },
          { group: ["../lab/*", "../../lab/*", "../widget/*", "../../widget/*"], message: "a package does not reach into another package's sources; move shared code into @dflow-lab/canvas" },
        ],
      }],
    },
  },
  {
    // The canvas's own tests live beside the package and test its modules directly.
    files: ["js/test/**"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    // Build scripts run by node.
    files: ["js/**/*.mjs"],
    languageOptions: {
      globals: { console: "readonly", process: "readonly", URL: "readonly" },
    },
  },
);
