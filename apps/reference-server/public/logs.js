// Logs (filters, paging, detail with request/response) and undelivered events (detail, re-send).
import { dynamic, setAttrs, setText, timeElement, zonedWallTimeToIso } from './i18n.js';
import { api } from './session.js';
import { guarded, toast } from './ui.js';

const $ = (sel) => document.querySelector(sel);
const PAGE = 20;

function cell(child) {
  const td = document.createElement('td');
  td.append(child);
  return td;
}
const i18nCell = (key, params) => cell(setText(document.createElement('span'), key, params));
const textCell = (text) => cell(dynamic('span', text ?? ''));

function button(key, labelKey, labelParams, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  setText(b, key);
  setAttrs(b, { 'aria-label': [labelKey, labelParams] });
  b.addEventListener('click', onClick);
  return b;
}

/** The call a row's request is about: a call event, or the first record of an upload (`[..]` or `{calls:[..]}`). */
function callOf(row) {
  const data = row.request_data?.data ?? row.request_data;
  if (Array.isArray(data)) return data[0];
  return data?.calls?.[0] ?? data;
}
/** Phone of a row: the `phone` column when the server has it, otherwise the one in the request. */
const phoneOf = (row) => row.phone ?? callOf(row)?.phone ?? null;
function directionOf(row) {
  if (row.direction) return row.direction;
  const type = callOf(row)?.type;
  return type === 'in' || type === 'out' ? type : null;
}

/** Shows `fields` ([labelKey, value | {date} | {key}]) and JSON payloads in the detail dialog. */
function showDetail(titleKey, titleParams, fields, payloads) {
  setText($('#detail-title'), titleKey, titleParams);
  const dl = $('#detail-fields');
  dl.replaceChildren();
  for (const [labelKey, value] of fields) {
    const dt = setText(document.createElement('dt'), labelKey);
    const dd = document.createElement('dd');
    if (value && typeof value === 'object' && 'date' in value) dd.append(timeElement(value.date));
    else if (value && typeof value === 'object' && 'key' in value) setText(dd, value.key);
    else dd.append(dynamic('span', value ?? '—'));
    dl.append(dt, dd);
  }
  const box = $('#detail-payloads');
  box.replaceChildren();
  for (const [labelKey, value] of payloads) {
    const h = setText(document.createElement('h3'), labelKey);
    const pre =
      value === null || value === undefined
        ? setText(document.createElement('p'), 'logs.nothing')
        : dynamic('pre', JSON.stringify(value, null, 2));
    if (pre.tagName === 'PRE') pre.tabIndex = 0;
    box.append(h, pre);
  }
  $('#detail').showModal();
}

let logOffset = 0;
let logTotal = 0;
/** Only the newest request renders (a reset and an apply in quick succession can answer out of order). */
let logRequest = 0;

function filterQuery() {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(logOffset) });
  const f = new FormData($('#logs-filter'));
  for (const name of ['call_id', 'phone', 'event', 'status']) {
    const v = String(f.get(name) ?? '').trim();
    if (v) params.set(name, v);
  }
  for (const name of ['since', 'until']) {
    const v = String(f.get(name) ?? '');
    const iso = v ? zonedWallTimeToIso(v) : undefined;
    if (iso) params.set(name, iso);
  }
  return params.toString();
}

function logRow(l) {
  const tr = document.createElement('tr');
  const dir = directionOf(l);
  tr.append(
    cell(timeElement(l.created_at)),
    textCell(l.event_type),
    dir ? i18nCell(`direction.${dir}`) : textCell('—'),
    textCell(phoneOf(l) ?? '—'),
    textCell(l.call_unique_id ?? '—'),
    i18nCell(`status.${l.status}`),
    textCell(l.duration_ms ?? ''),
    textCell(l.error_message ?? ''),
    cell(
      button('logs.details', 'logs.detailsOf', { event: l.event_type, date: { date: l.created_at } }, () =>
        showDetail(
          'logs.detailsOf',
          { event: l.event_type, date: { date: l.created_at } },
          [
            ['detail.time', { date: l.created_at }],
            ['detail.event', l.event_type],
            ['detail.status', { key: `status.${l.status}` }],
            ['detail.callId', l.call_unique_id],
            ['detail.phone', phoneOf(l)],
            ['detail.direction', dir ? { key: `direction.${dir}` } : null],
            ['detail.ms', l.duration_ms],
            ['detail.error', l.error_message],
          ],
          [
            ['logs.request', l.request_data],
            ['logs.response', l.response_data],
          ],
        ),
      ),
    ),
  );
  tr.className = l.status === 'error' ? 'error' : '';
  tr.dataset.id = String(l.id);
  return tr;
}

export async function loadLogs() {
  const mine = ++logRequest;
  const data = await api('GET', 'logs', { query: filterQuery() });
  if (mine !== logRequest) return;
  logTotal = data.total;
  const tbody = $('#logs tbody');
  tbody.replaceChildren(...data.items.map(logRow));
  const range = $('#logs-range');
  if (data.total === 0) setText(range, 'logs.empty');
  else setText(range, 'logs.range', { from: logOffset + 1, to: logOffset + data.items.length, total: data.total });
  $('#logs-prev').disabled = logOffset === 0;
  $('#logs-next').disabled = logOffset + PAGE >= logTotal;
}

let dlBefore;

function deadLetterRow(d) {
  const tr = document.createElement('tr');
  tr.dataset.id = String(d.id);
  const names = { event: d.event_type ?? d.queue, call: d.call_unique_id ?? d.job_id ?? d.id };
  const actions = document.createElement('td');
  actions.className = 'actions';
  actions.append(
    button('logs.details', 'dl.detailsOf', names, () => guarded(() => openDeadLetter(d.id, names))),
    button('dl.resend', 'dl.resendOf', names, () => guarded(() => resend(d.id))),
  );
  tr.append(
    cell(timeElement(d.created_at)),
    textCell(d.event_type ?? d.queue),
    textCell(d.call_unique_id ?? '—'),
    textCell(d.error_message ?? ''),
    textCell(d.attempts),
    d.resent_at ? cell(timeElement(d.resent_at)) : textCell('—'),
    actions,
  );
  return tr;
}

async function openDeadLetter(id, names) {
  const { item } = await api('GET', 'dead-letters', { rest: `/${id}` });
  showDetail(
    'dl.detailsOf',
    names,
    [
      ['detail.time', { date: item.created_at }],
      ['detail.event', item.event_type ?? item.queue],
      ['detail.callId', item.call_unique_id],
      ['detail.error', item.error_message],
      ['detail.attempts', item.attempts],
      ['detail.resentAt', item.resent_at ? { date: item.resent_at } : null],
    ],
    [['detail.payload', item.payload]],
  );
}

async function resend(id) {
  const r = await api('POST', 'dead-letters', { rest: `/${id}/resend` });
  toast(r.duplicate ? 'dl.alreadyQueued' : 'dl.queued');
  await loadDeadLetters();
}

export async function loadDeadLetters(more = false) {
  if (!more) dlBefore = undefined;
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (dlBefore) query.set('before', String(dlBefore));
  const { items } = await api('GET', 'dead-letters', { query: query.toString() });
  const tbody = $('#dead-letters tbody');
  const rows = items.map(deadLetterRow);
  if (more) tbody.append(...rows);
  else tbody.replaceChildren(...rows);
  dlBefore = items.at(-1)?.id ?? dlBefore;
  $('#dl-empty').hidden = tbody.children.length > 0;
  $('#dl-more').hidden = items.length < PAGE;
}

export function wireLogViews() {
  $('#logs-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    logOffset = 0;
    guarded(loadLogs);
  });
  $('#logs-filter').addEventListener('reset', () => {
    logOffset = 0;
    setTimeout(() => guarded(loadLogs));
  });
  $('#logs-next').addEventListener('click', () => {
    logOffset += PAGE;
    guarded(loadLogs);
  });
  $('#logs-prev').addEventListener('click', () => {
    logOffset = Math.max(0, logOffset - PAGE);
    guarded(loadLogs);
  });
  $('#dl-refresh').addEventListener('click', () => guarded(() => loadDeadLetters()));
  $('#dl-more').addEventListener('click', () => guarded(() => loadDeadLetters(true)));
}
