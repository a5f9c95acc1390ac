/** The renderer's entry: pick the bridge for this host, then mount the app. */
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { chooseHost } from './lib/bridge';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

mount(App, { target, props: { host: chooseHost() } });
