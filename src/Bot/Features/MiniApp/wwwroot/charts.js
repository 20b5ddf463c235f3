// The overview's two charts, drawn as SVG into the <svg> elements index.html declares. Colours and fonts come from
// app.css (classes), never from style attributes. Each chart scales to its container through its viewBox.
import { t, shortDay } from './i18n.js';
import { el } from './ui.js';

/** An element in the namespace of svg (read from the element itself: the HTML parser put it there). */
function node(svg, tag, attrs = {}, text = null) {
  const n = document.createElementNS(svg.namespaceURI, tag);
  for (const [name, value] of Object.entries(attrs)) n.setAttribute(name, String(value));
  if (text !== null) n.textContent = String(text);
  return n;
}

const percent = (value, of) => (of > 0 ? Math.round((value / of) * 100) : 0);

export const FUNNEL_STEPS = ['requested', 'checked', 'passed', 'retained'];

/** The join funnel: one horizontal bar per step, as wide as its share of the requests, labelled "N · P%". */
export function funnelChart(svg, funnel) {
  const width = 320;
  const row = 36;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${row * FUNNEL_STEPS.length}`);
  const requested = Number(funnel.requested) || 0;
  // Width is relative to the requests; a step larger than them (direct joins are checked too) is clamped to full.
  const scale = Math.max(requested, 1);
  FUNNEL_STEPS.forEach((step, i) => {
    const value = Number(funnel[step]) || 0;
    const y = i * row;
    const label = t('step.' + step);
    svg.append(
      node(svg, 'text', { x: 0, y: y + 12, class: 'label' }, label),
      node(svg, 'text', { x: width, y: y + 12, class: 'value', 'text-anchor': 'end' }, `${value} · ${percent(value, requested)}%`),
      node(svg, 'rect', { x: 0, y: y + 17, width, height: 12, rx: 3, class: 'track' }),
    );
    const bar = node(svg, 'rect', {
      x: 0, y: y + 17, width: ((Math.min(value, scale) / scale) * width).toFixed(1), height: 12, rx: 3,
      class: 'mark step-' + step, 'data-step': step, 'data-value': value,
    });
    bar.append(node(svg, 'title', {}, `${label}: ${value}`));
    svg.append(bar);
  });
  svg.setAttribute('aria-label', FUNNEL_STEPS.map((s) => `${t('step.' + s)} ${Number(funnel[s]) || 0}`).join(', '));
}

export const DAY_SERIES = ['requested', 'approved', 'declined'];

/** A round number at or above value, for the y axis. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

/** Requests, approvals and declines per day: a group of three bars per day, an axis of dates, a legend. */
export function daysChart(svg, legend, days) {
  const width = 336;
  const height = 150;
  const left = 22;
  const top = 8;
  const bottom = 126;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const max = niceMax(Math.max(0, ...days.flatMap((d) => DAY_SERIES.map((s) => Number(d[s]) || 0))));
  const y = (v) => bottom - (v / max) * (bottom - top);

  // Grid lines at 0, half and the top, labelled where the value is whole.
  for (const v of [0, max / 2, max]) {
    svg.append(node(svg, 'line', { x1: left, x2: width, y1: y(v), y2: y(v), class: 'grid' }));
    if (Number.isInteger(v)) svg.append(node(svg, 'text', { x: left - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end' }, v));
  }

  const group = (width - left) / Math.max(days.length, 1);
  const bar = Math.min(7, (group - 4) / DAY_SERIES.length);
  days.forEach((day, i) => {
    const x0 = left + i * group + (group - bar * DAY_SERIES.length) / 2;
    DAY_SERIES.forEach((series, j) => {
      const value = Number(day[series]) || 0;
      const h = bottom - y(value);
      const rect = node(svg, 'rect', {
        x: (x0 + j * bar).toFixed(1), y: (bottom - h).toFixed(1), width: (bar - 1).toFixed(1), height: h.toFixed(1),
        class: 'mark series-' + series, 'data-day': day.day, 'data-series': series, 'data-value': value,
      });
      rect.append(node(svg, 'title', {}, `${shortDay(day.day)} · ${t('series.' + series)}: ${value}`));
      svg.append(rect);
    });
    // Every other date (the last one always), so that the labels do not overlap at phone widths.
    if ((days.length - 1 - i) % 2 === 0) {
      svg.append(node(svg, 'text', { x: (left + i * group + group / 2).toFixed(1), y: bottom + 14, class: 'axis', 'text-anchor': 'middle' },
        shortDay(day.day)));
    }
  });

  legend.replaceChildren(...DAY_SERIES.map((s) => el('li', {}, el('span', { class: 'swatch series-' + s }), t('series.' + s))));
}
