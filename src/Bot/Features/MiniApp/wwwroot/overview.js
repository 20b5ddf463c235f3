// The overview of one chat: today's and the week's counts, the join funnel, the last 14 days and the raids.
import { api } from './net.js';
import { t, recent } from './i18n.js';
import { el, $, $$, report } from './ui.js';
import { funnelChart, daysChart } from './charts.js';

/** The number a [data-count] tile names: "today.approved" → overview.today.approved, "flood.week" → floodWarnings.week. */
function count(overview, key) {
  const [group, name] = key.split('.');
  const source = group === 'flood' ? overview.floodWarnings : overview[group];
  return Number(source && source[name]) || 0;
}

function raidItem(raid) {
  const end = raid.endedAt ? recent(raid.endedAt) : t('ongoing');
  return el('li', { class: raid.endedAt ? '' : 'ongoing' },
    el('span', { class: 'when' }, `${recent(raid.startedAt)} – ${end}`),
    el('span', { class: 'joins' }, t('joins', { n: Number(raid.joins) || 0 })));
}

export function render(panel, overview) {
  for (const tile of $$('[data-count]', panel)) tile.textContent = String(count(overview, tile.dataset.count));
  const funnel = overview.funnel || {};
  $('#funnel-title', panel).textContent = t('funnelTitle', { days: Number(funnel.days) || 30 });
  funnelChart($('#funnel-chart', panel), funnel);
  daysChart($('#days-chart', panel), $('#days-legend', panel), Array.isArray(overview.days) ? overview.days : []);
  const raids = Array.isArray(overview.raids) ? overview.raids : [];
  $('#raids', panel).replaceChildren(...raids.map(raidItem));
  $('#raids-empty', panel).hidden = raids.length > 0;
}

/** The panel's controller: load(chatId) fetches and draws; an answer for a chat no longer selected is dropped. */
export function createOverview(panel) {
  let seq = 0;
  return {
    async load(chatId) {
      const mine = ++seq;
      panel.classList.add('loading');
      try {
        const overview = await api(`chats/${encodeURIComponent(chatId)}/overview`);
        if (mine === seq) render(panel, overview || {});
      } catch (error) {
        if (mine === seq) report(error);
      } finally {
        if (mine === seq) panel.classList.remove('loading');
      }
    },
  };
}
