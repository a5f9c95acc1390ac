/**
 * SECURITY.md item 23 at the component level: names taken from model files are rendered as
 * text (escaped), never as markup. The e2e markup spec checks the same in Chromium.
 */
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../shared/types';
import LayerTable from './LayerTable.svelte';
import ModelSummaryTable from './ModelSummaryTable.svelte';

const MARKUP = '<img src=x onerror="alert(1)">';

describe('names with markup', () => {
  it('are escaped in the model summary table', () => {
    const summary: ModelSummary = {
      format: 'tfjs-layers',
      source: '/m',
      name: '<script>alert(2)</script>',
      inputShape: [null, 4],
      outputShape: [null, 2],
      classes: 2,
      layers: [
        {
          name: MARKUP,
          className: '<b>Dense</b>',
          outputShape: [null, 2],
          params: 10,
          trainableParams: 10,
          macs: 8,
          inbound: [],
        },
      ],
      params: 10,
      trainableParams: 10,
      macs: 8,
      sizeBytes: 40,
      sizeGzipBytes: 40,
      weightDtypes: ['float32'],
    };
    const { body } = render(ModelSummaryTable, { props: { summary } });
    expect(body).toContain('&lt;img src=x onerror="alert(1)">');
    expect(body).toContain('&lt;b>Dense&lt;/b>');
    expect(body).toContain('Layers of &lt;script>alert(2)&lt;/script>');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<b>');
  });

  it('are escaped in the per-layer results table', () => {
    const { body } = render(LayerTable, {
      props: {
        columns: [{ key: 'params', label: 'parameters', paired: true }],
        rows: [{ name: MARKUP, className: 'Dense', values: { paramsBefore: 10, paramsAfter: 5 } }],
      },
    });
    expect(body).toContain('&lt;img src=x onerror="alert(1)">');
    expect(body).toContain('10 → 5');
    expect(body).not.toContain('<img');
  });
});
