/** The console's entry point: renders the app into `#app` (console/static/index.html). */
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
