// Admin UI entry: plain ES modules, no build step. Every read and write goes through the authenticated API.
import {
  currentLanguage,
  currentTimeZone,
  dynamic,
  initLanguage,
  refreshTimes,
  setAttrs,
  setLanguage,
  setText,
  setTimeZone,
  translateAll,
} from './i18n.js';
import { loadDeadLetters, loadLogs, wireLogViews } from './logs.js';
import { adoptAccountUrl, api, captureFromUrl, enterprise, signIn, token, whoami } from './session.js';
import { ask, guarded, toast, toastError } from './ui.js';

const $ = (sel) => document.querySelector(sel);
const EVENT_FLAGS = ['incoming', 'outgoing', 'hangup', 'history', 'smart_redirect'];

let config;
let enterpriseInfo;

function showLogin(messageKey) {
  $('#app').hidden = true;
  $('#login').hidden = false;
  if (messageKey) toast(messageKey, undefined, true);
}

/** 401 anywhere means the credential is gone (expired, revoked): back to sign-in with `messageKey`. */
async function authed(fn, messageKey = 'login.expired') {
  try {
    return await fn();
  } catch (err) {
    if (err?.status === 401) {
      showLogin(messageKey);
      return undefined;
    }
    throw err;
  }
}

function renderHeader() {
  if (!enterpriseInfo) return;
  setText($('title'), 'app.titleFor', { name: enterpriseInfo.name });
  setText($('#title'), 'app.heading', { name: enterpriseInfo.name });
  setText($('#who'), 'app.enterprise', { number: enterpriseInfo.number });
}

function render(next) {
  config = next;
  $('#domain').value = config.domain ?? '';
  $('#api_key').value = '';
  setAttrs($('#api_key'), {
    placeholder: config.api_key
      ? ['connection.apiKeyUnchanged', { masked: config.api_key }]
      : ['connection.apiKeyNotSet'],
  });
  $('#enabled').checked = config.enabled;
  for (const k of EVENT_FLAGS) $(`#ev-${k}`).checked = Boolean(config.events?.[k]);
  const reg = $('#registration');
  if (config.registered) setText(reg, 'connection.registeredSince', { date: { date: config.registered_at } });
  else setText(reg, 'connection.notRegistered');
  $('#unregister').disabled = !config.registered;
}

/** Reads the config and shows the app; a refused credential lands on sign-in with `expiredKey`. */
async function load(expiredKey = 'login.expired') {
  if (!token() || !enterprise()) return showLogin();
  const data = await authed(() => api('GET', 'config'), expiredKey);
  if (!data) return undefined;
  enterpriseInfo = data.enterprise;
  setTimeZone(data.time_zone ?? 'UTC');
  setText($('#logs-zone'), 'logs.timeZoneNote', { zone: currentTimeZone() });
  renderHeader();
  $('#login').hidden = true;
  $('#app').hidden = false;
  render(data.config);
  return data;
}

const connectionBody = () => {
  const body = { domain: $('#domain').value, enabled: $('#enabled').checked };
  if ($('#api_key').value) body.api_key = $('#api_key').value;
  return body;
};

$('#connection-form').addEventListener('submit', (e) => {
  e.preventDefault();
  guarded(
    async () => render((await authed(() => api('PATCH', 'config', { body: connectionBody() }))).config),
    'connection.saved',
  );
});
$('#test-connection').addEventListener('click', () =>
  guarded(async () => {
    const body = {};
    if ($('#domain').value) body.domain = $('#domain').value;
    if ($('#api_key').value) body.api_key = $('#api_key').value;
    await authed(() => api('POST', 'test', { body }));
  }, 'connection.testOk'),
);
$('#register').addEventListener('click', () =>
  guarded(async () => {
    const principal = await whoami();
    const result = await authed(() => api('POST', 'register', { body: connectionBody() }));
    if (!result) return;
    // Registration revoked the link this page was opened with; continue with the rotated one.
    if (principal?.kind !== 'admin') adoptAccountUrl(result.account_url);
    await load();
    toast('connection.registered');
  }),
);
$('#unregister').addEventListener('click', async () => {
  if (!(await ask('connection.unregisterConfirm'))) return;
  guarded(async () => {
    await authed(() => api('POST', 'unregister'));
    toast('connection.unregistered');
    // An account link is revoked by the removal: the reload then lands on sign-in with that explanation.
    await load('login.removed');
  });
});
$('#settings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const events = Object.fromEntries(EVENT_FLAGS.map((k) => [k, $(`#ev-${k}`).checked]));
  guarded(
    async () => render((await authed(() => api('PATCH', 'config', { body: { events } }))).config),
    'settings.saved',
  );
});

const fullName = (m) => `${m.first_name ?? ''} ${m.last_name ?? ''}`.trim() || `#${m.id}`;

/** Dropdown option of one extension as seen from `manager`: free, theirs, or held by someone (named). */
function extensionOption(phone, manager, nameOf) {
  const ext = phone.phone_number;
  const holder = phone.retailcrm_user_id;
  const option = new Option('', ext, false, ext === manager.extension);
  if (holder && holder !== String(manager.id)) setText(option, 'managers.owned', { ext, owner: nameOf(holder) });
  else if (holder) setText(option, 'managers.mine', { ext });
  else if (phone.owner_name) setText(option, 'managers.pbxUser', { ext, owner: phone.owner_name });
  else setText(option, 'managers.free', { ext });
  return option;
}

async function loadManagers() {
  const [m, p] = (await authed(() => Promise.all([api('GET', 'managers'), api('GET', 'internal-phones')]))) ?? [];
  if (!m) return;
  const byId = new Map(m.managers.map((x) => [String(x.id), x]));
  const nameOf = (id) => (byId.has(id) ? fullName(byId.get(id)) : `#${id}`);
  const tbody = $('#managers tbody');
  tbody.replaceChildren();
  for (const manager of m.managers) {
    const tr = document.createElement('tr');
    tr.dataset.userId = String(manager.id);
    const name = document.createElement('td');
    name.append(dynamic('span', fullName(manager)));
    const sel = document.createElement('select');
    sel.dataset.userId = String(manager.id);
    setAttrs(sel, { 'aria-label': ['managers.extensionFor', { name: fullName(manager) }] });
    sel.append(setText(new Option('', ''), 'managers.notAssigned'));
    for (const phone of p.phones) sel.append(extensionOption(phone, manager, nameOf));
    const tdSel = document.createElement('td');
    tdSel.append(sel);
    const remote = document.createElement('td');
    remote.append(dynamic('span', manager.retailcrm_extension ?? '—'));
    const save = setText(document.createElement('button'), 'managers.save');
    save.type = 'button';
    save.hidden = true;
    setAttrs(save, { 'aria-label': ['managers.save'] });
    sel.addEventListener('change', () => {
      save.hidden = sel.value === (manager.extension ?? '');
    });
    save.addEventListener('click', async () => {
      const ext = sel.value || null;
      const holder = p.phones.find((x) => x.phone_number === ext)?.retailcrm_user_id;
      if (ext && holder && holder !== String(manager.id)) {
        const yes = await ask('managers.reassignConfirm', { ext, owner: nameOf(holder), manager: fullName(manager) });
        if (!yes) {
          sel.value = manager.extension ?? '';
          save.hidden = true;
          return;
        }
      }
      guarded(async () => {
        const r = await authed(() => api('POST', 'save-extensions', { body: { extensions: { [manager.id]: ext } } }));
        if (!r) return;
        await loadManagers();
        if (r.sync && r.sync.ok === false && !r.sync.skipped) toast('managers.syncFailed', undefined, true);
        else toast('managers.saved');
      });
    });
    const tdBtn = document.createElement('td');
    tdBtn.append(save);
    tr.append(name, tdSel, remote, tdBtn);
    tbody.append(tr);
  }
}
$('#load-managers').addEventListener('click', () => guarded(loadManagers));

function showTab(tab) {
  for (const b of document.querySelectorAll('nav button')) {
    const active = b.dataset.tab === tab;
    b.classList.toggle('active', active);
    b.setAttribute('aria-pressed', String(active));
  }
  for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== tab;
  if (tab === 'logs') guarded(() => authed(loadLogs));
  if (tab === 'dead-letters') guarded(() => authed(() => loadDeadLetters()));
}
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab));

function applyLanguage() {
  translateAll();
  refreshTimes();
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === currentLanguage()));
  }
}
for (const b of document.querySelectorAll('[data-lang]')) {
  b.addEventListener('click', () => {
    setLanguage(b.dataset.lang, true);
    applyLanguage();
  });
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  signIn(String(f.get('enterprise_number')), String(f.get('token')));
  guarded(() => load());
});

wireLogViews();
initLanguage();
applyLanguage();
captureFromUrl();
load().catch(toastError);
