// One Vite project, two pages: the respondent H5 under /m/ and the staff
// console under /console/. They share only src/shared (API client, i18n
// helpers), so the H5 bundle never pulls in Element Plus or ECharts.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))

// chunkReport writes dist/.vite/chunks.json: every chunk with its imports and
// the modules inside it. scripts/check-size.mjs walks it from the H5 entry to
// hold the H5 to its JS budget and keep console-only libraries out of it.
function chunkReport() {
  return {
    name: 'xinling-chunk-report',
    apply: 'build',
    generateBundle(_, bundle) {
      const chunks = {}
      for (const out of Object.values(bundle)) {
        if (out.type !== 'chunk') continue
        chunks[out.fileName] = {
          entry: out.isEntry ? out.name : null,
          imports: out.imports,
          dynamicImports: out.dynamicImports,
          modules: out.moduleIds.map((id) => id.replace(here('.'), '')),
        }
      }
      this.emitFile({ type: 'asset', fileName: '.vite/chunks.json', source: JSON.stringify(chunks, null, 1) })
    },
  }
}

export default defineConfig({
  plugins: [vue(), chunkReport()],
  resolve: {
    alias: { '@shared': here('./src/shared') },
  },
  build: {
    outDir: 'dist',
    // scripts/clean-dist.mjs empties dist but keeps the committed
    // placeholder that lets `go build` embed dist before the first build.
    emptyOutDir: false,
    assetsDir: 'assets',
    rollupOptions: {
      input: {
        m: here('./m/index.html'),
        console: here('./console/index.html'),
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.js', 'm/**/*.test.js', 'console/**/*.test.js'],
  },
})
