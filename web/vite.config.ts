import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is served by the platform Worker on its own origin (workers/dashboard.ts): built
// into web/dist for the assets binding, or through this dev server during `npm run dev`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { strictPort: true },
});
