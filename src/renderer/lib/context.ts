/** What every component of the window shares: the API, the job hub and the wizard's state. */
import { getContext, setContext } from 'svelte';
import type { PollardApi } from '../../shared/api';
import type { HostKind } from './bridge';
import type { JobHub } from './state/job-hub';
import type { WizardState } from './state/wizard.svelte';

export interface AppContext {
  api: PollardApi;
  host: HostKind;
  hub: JobHub;
  wizard: WizardState;
}

const KEY = Symbol('pollard');

export function setAppContext(context: AppContext): void {
  setContext(KEY, context);
}

export function appContext(): AppContext {
  const context = getContext<AppContext | undefined>(KEY);
  if (!context) throw new Error('appContext() called outside <App>');
  return context;
}
