import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Served by the desk under the same origin: index.html at `/`, hashed files under /assets/.
// No inline script or style in the output (the desk's CSP allows 'self' only).
export default defineConfig({
  base: "/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
