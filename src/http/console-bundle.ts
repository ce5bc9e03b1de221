/**
 * The console's browser code (`console/src`), bundled with esbuild in memory when an instance
 * starts: `npm start` serves it with no build command and nothing fetched. The bundle includes
 * the typed client of `src/client`, preact and uPlot (its stylesheet too).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What the page loads besides `index.html`. */
export interface ConsoleBundle {
  readonly js: string;
  readonly css: string;
  readonly html: string;
}

const CONSOLE_DIR = new URL('../../console/', import.meta.url);

/** Bundles `console/src/main.tsx` (minified, ES2022) and reads the page and its stylesheet. */
export async function bundleConsole(): Promise<ConsoleBundle> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL('src/main.tsx', CONSOLE_DIR))],
    bundle: true,
    write: false,
    outdir: fileURLToPath(new URL('dist/', CONSOLE_DIR)),
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const text = (ext: string) =>
    result.outputFiles
      .filter((f) => f.path.endsWith(ext))
      .map((f) => f.text)
      .join('\n');
  const [html, ownCss] = await Promise.all([
    readFile(new URL('static/index.html', CONSOLE_DIR), 'utf8'),
    readFile(new URL('static/console.css', CONSOLE_DIR), 'utf8'),
  ]);
  return { js: text('.js'), css: `${text('.css')}\n${ownCss}`, html };
}
