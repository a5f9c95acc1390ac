/**
 * Chart.js with only what Pollard draws registered (bar and line charts on category and
 * linear scales), so the bundle carries no unused chart types.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
);

export { Chart };

export interface ChartColors {
  text: string;
  grid: string;
  series: string[];
}

/** The theme's chart colours, from CSS custom properties on <html>. */
export function chartColors(element: Element = document.documentElement): ChartColors {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read('--text-muted', '#555'),
    grid: read('--border', '#ddd'),
    series: [1, 2, 3, 4, 5, 6].map((i) => read(`--chart-${i}`, '#36c')),
  };
}
