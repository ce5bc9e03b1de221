/** The console's entry point: renders the app into `#app` (console/static/index.html). */
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app')!;
root.replaceChildren(); // the static "Loading…" placeholder
render(<App />, root);
