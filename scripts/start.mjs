#!/usr/bin/env node
// `npm start`: builds if needed, then opens the desktop app, or (without an Electron binary or
// a display) says why in one line and starts `pollard serve`. See src/main/launch/app-launch.ts.
import { register } from 'tsx/esm/api';

register();
const { startApp } = await import('../src/main/launch/app-launch.ts');
process.exitCode = await startApp();
