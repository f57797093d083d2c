// The Usage page: GET /v1beta/castor/usage for a period, grouped by model, day or method, as a table and an SVG bar chart.
import { json } from './api.js';
import { $, el, fillTable, showError } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const number = new Intl.NumberFormat('en-US');

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  // Presentation attributes only: the CSP (style-src 'self') blocks style attributes, so colours come from console.css.
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** One horizontal bar per row, its length proportional to the row's total tokens (requests when no row has tokens). */
function drawChart(rows) {
  const chart = $('usage-chart');
  const measure = rows.some((r) => r.totalTokenCount > 0) ? 'totalTokenCount' : 'requests';
  $('usage-chart-title').textContent = measure === 'totalTokenCount' ? 'Total tokens per group' : 'Requests per group';
  const rowHeight = 26, labelWidth = 220, barWidth = 420, valueWidth = 120;
  const width = labelWidth + barWidth + valueWidth;
  const height = Math.max(rows.length, 1) * rowHeight + 4;
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('width', width);
  chart.setAttribute('height', height);
  const max = Math.max(1, ...rows.map((r) => r[measure] ?? 0));
  const parts = rows.map((row, i) => {
    const value = row[measure] ?? 0;
    const y = i * rowHeight + 2;
    const length = value > 0 ? Math.max(2, Math.round((value / max) * barWidth)) : 0;
    const group = svg('g', { class: 'bar', 'data-group': row.group });
    group.append(
      svg('title', {}, `${row.group}: ${number.format(value)}`),
      svg('text', { x: labelWidth - 8, y: y + 17, 'text-anchor': 'end', class: 'label' }, row.group.length > 30 ? `${row.group.slice(0, 29)}…` : row.group),
      svg('rect', { x: labelWidth, y: y + 3, width: length, height: rowHeight - 8, rx: 2, 'data-value': value }),
      svg('text', { x: labelWidth + length + 6, y: y + 17, class: 'value' }, number.format(value)));
    return group;
  });
  if (parts.length === 0) parts.push(svg('text', { x: 8, y: 18, class: 'label' }, 'No usage in this period.'));
  chart.replaceChildren(...parts);
}

function cost(value) {
  return value === undefined || value === null ? '' : `$${Number(value).toFixed(value >= 1 ? 2 : 6)}`;
}

let latest = 0;

export async function show() {
  // Only the latest request's answer is drawn: an earlier, slower one (another period) must not overwrite it.
  const request = ++latest;
  showError('usage-error', null);
  const query = new URLSearchParams({ since: $('usage-period').value, by: $('usage-by').value });
  const project = $('usage-project-field').hidden ? '' : $('usage-project').value.trim();
  if (project) query.set('project', project);
  try {
    const report = await json(`/v1beta/castor/usage?${query}`);
    if (request !== latest) return;
    const rows = report.rows ?? [];
    // The cost column only when the server priced something: local models have no price unless configured.
    const priced = rows.some((r) => r.estimatedCostUsd !== undefined);
    for (const cell of document.querySelectorAll('#usage-table .cost')) cell.hidden = !priced;
    const line = (row) => el('tr', { 'data-group': row.group },
      el('th', { scope: 'row' }, row.group),
      ...[row.requests, row.errors, row.promptTokenCount, row.cachedContentTokenCount, row.candidatesTokenCount,
        row.thoughtsTokenCount, row.totalTokenCount].map((n) => el('td', { class: 'num' }, number.format(n ?? 0))),
      el('td', { class: 'num' }, String(row.averageLatencyMs ?? 0)),
      el('td', { class: 'num cost', hidden: !priced }, cost(row.estimatedCostUsd)));
    fillTable($('usage-table'), rows.map((r) => line(r)), 'No usage in this period.');
    if (rows.length > 0) $('usage-table').tBodies[0].append(line(report.total));
    drawChart(rows);
    // What the table shows now, for whoever reads the page (tests wait on it rather than on time).
    $('usage-table').dataset.query = query.toString();
    const who = report.project ? `project ${report.project}` : 'every project';
    $('usage-summary').textContent = `${who}, ${report.since} to ${report.until}: ${number.format(report.total?.requests ?? 0)} requests, ` +
      `${number.format(report.total?.totalTokenCount ?? 0)} tokens.`;
  } catch (error) {
    if (request === latest) showError('usage-error', error);
  }
}

/** An admin key may filter by project and group by project; an ordinary key reads its own project only. */
export function setAdmin(admin) {
  $('usage-project-field').hidden = !admin;
  $('usage-by-project').hidden = !admin;
  $('usage-by-project').disabled = !admin;
  if (!admin) {
    $('usage-project').value = '';
    if ($('usage-by').value === 'project') $('usage-by').value = 'model';
  }
}

export function init() {
  $('usage-form').addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
}
