/**
 * Light and dark themes: the OS preference (`prefers-color-scheme`) unless the settings say
 * otherwise. The CSS does the work through `data-theme` on <html>; charts read `effective`
 * to redraw in the new colours.
 */
import type { Theme } from '../../shared/api';

class ThemeState {
  choice = $state<Theme>('system');
  osDark = $state(false);
  readonly effective = $derived<'light' | 'dark'>(
    this.choice === 'system' ? (this.osDark ? 'dark' : 'light') : this.choice,
  );

  /** Follow the OS and apply the choice to the document; returns a stop function. */
  attach(doc: Document = document): () => void {
    const query = doc.defaultView?.matchMedia('(prefers-color-scheme: dark)');
    const onChange = (): void => {
      this.osDark = query?.matches ?? false;
    };
    onChange();
    query?.addEventListener('change', onChange);
    return () => query?.removeEventListener('change', onChange);
  }

  set(choice: Theme, doc: Document = document): void {
    this.choice = choice;
    if (choice === 'system') delete doc.documentElement.dataset.theme;
    else doc.documentElement.dataset.theme = choice;
  }
}

export const theme = new ThemeState();
