// Admin UI: plain ES module, no build step. Every read and write goes through the authenticated API.
const qs = new URLSearchParams(location.search);
const store = sessionStorage;
if (qs.get('token')) {
  store.setItem('cb_token', qs.get('token'));
  // Keep the token out of the address bar, history and any Referer.
  qs.delete('token');
  history.replaceState(null, '', `${location.pathname}?${qs}`);
}
if (qs.get('enterprise_number')) store.setItem('cb_enterprise', qs.get('enterprise_number'));
const enterprise = () => store.getItem('cb_enterprise');
const token = () => store.getItem('cb_token');
const $ = (sel) => document.querySelector(sel);

function toast(text, isError = false) {
  const el = $('#toast');
  el.textContent = text;
  el.className = `show ${isError ? 'error' : ''}`;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => {
    el.className = '';
  }, 4000);
}

async function api(method, path, body) {
  const res = await fetch(`api/${path}/${encodeURIComponent(enterprise())}`, {
    method,
    headers: { authorization: `Bearer ${token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({ ok: false, error: 'bad_response', message: `HTTP ${res.status}` }));
  if (res.status === 401) showLogin('Your link has expired or was revoked. Open it again from RetailCRM.');
  if (!res.ok || data.ok === false) throw Object.assign(new Error(data.message || data.error), { code: data.error });
  return data;
}

function showLogin(message) {
  $('#app').hidden = true;
  $('#login').hidden = false;
  if (message) toast(message, true);
}

function render(config) {
  $('#domain').value = config.domain ?? '';
  $('#api_key').value = '';
  $('#api_key').placeholder = config.api_key ?? 'not set';
  $('#enabled').checked = config.enabled;
  for (const [k, v] of Object.entries(config.events)) {
    const el = $(`#ev-${k}`);
    if (el) el.checked = v;
  }
  $('#registration').textContent = config.registered
    ? `Registered in RetailCRM since ${config.registered_at}`
    : 'Not registered in RetailCRM';
}

async function load() {
  if (!token() || !enterprise()) return showLogin();
  const data = await api('GET', 'config');
  document.title = `${data.enterprise.name} — RetailCRM integration`;
  $('#title').textContent = `${data.enterprise.name} — RetailCRM`;
  $('#who').textContent = `Enterprise ${data.enterprise.number}`;
  $('#login').hidden = true;
  $('#app').hidden = false;
  render(data.config);
}

const connectionBody = () => {
  const body = { domain: $('#domain').value, enabled: $('#enabled').checked };
  if ($('#api_key').value) body.api_key = $('#api_key').value;
  return body;
};

async function guarded(fn, okText) {
  try {
    const r = await fn();
    if (okText) toast(okText);
    return r;
  } catch (err) {
    toast(`${err.code ?? 'error'}: ${err.message}`, true);
  }
}

$('#connection-form').addEventListener('submit', (e) => {
  e.preventDefault();
  guarded(async () => render((await api('PATCH', 'config', connectionBody())).config), 'Saved');
});
$('#test-connection').addEventListener('click', () =>
  guarded(async () => {
    const body = {};
    if ($('#domain').value) body.domain = $('#domain').value;
    if ($('#api_key').value) body.api_key = $('#api_key').value;
    await api('POST', 'test', body);
  }, 'Connection OK'),
);
$('#register').addEventListener('click', () =>
  guarded(async () => {
    await api('POST', 'register', connectionBody());
    // Registration rotated the link: the operator token stays valid, an account link does not.
    await load().catch(() => undefined);
  }, 'Registered in RetailCRM'),
);
$('#unregister').addEventListener('click', () => {
  if (!confirm('Remove the integration from RetailCRM? Account links stop working.')) return;
  guarded(() => api('POST', 'unregister'), 'Integration removed');
});
$('#settings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const events = {};
  for (const k of ['incoming', 'outgoing', 'hangup', 'history', 'smart_redirect']) events[k] = $(`#ev-${k}`).checked;
  guarded(async () => render((await api('PATCH', 'config', { events })).config), 'Settings saved');
});

async function loadManagers() {
  const [{ managers }, { phones }] = await Promise.all([api('GET', 'managers'), api('GET', 'internal-phones')]);
  const tbody = $('#managers tbody');
  tbody.replaceChildren();
  for (const m of managers) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = `${m.first_name ?? ''} ${m.last_name ?? ''}`.trim() || `#${m.id}`;
    const sel = document.createElement('select');
    sel.dataset.userId = String(m.id);
    sel.append(new Option('— not assigned —', ''));
    for (const p of phones) {
      const owner = p.owner_name ? p.owner_name : 'free';
      sel.append(new Option(`${p.phone_number} (${owner})`, p.phone_number, false, p.phone_number === m.extension));
    }
    const tdSel = document.createElement('td');
    tdSel.append(sel);
    const remote = document.createElement('td');
    remote.textContent = m.retailcrm_extension ?? '—';
    const save = document.createElement('button');
    save.textContent = 'Save';
    save.hidden = true;
    sel.addEventListener('change', () => {
      save.hidden = false;
    });
    save.addEventListener('click', () =>
      guarded(async () => {
        const r = await api('POST', 'save-extensions', { extensions: { [m.id]: sel.value || null } });
        if (r.sync && r.sync.ok === false && !r.sync.skipped) toast('Saved locally; RetailCRM sync failed', true);
        await loadManagers();
      }, 'Extension saved'),
    );
    const tdBtn = document.createElement('td');
    tdBtn.append(save);
    tr.append(name, tdSel, remote, tdBtn);
    tbody.append(tr);
  }
}
$('#load-managers').addEventListener('click', () => guarded(loadManagers));

let logOffset = 0;
async function loadLogs() {
  const f = new FormData($('#logs-filter'));
  const params = new URLSearchParams({ limit: '20', offset: String(logOffset) });
  for (const [k, v] of f) if (v) params.set(k, v);
  const res = await fetch(`api/logs/${encodeURIComponent(enterprise())}?${params}`, {
    headers: { authorization: `Bearer ${token()}` },
  });
  const data = await res.json();
  const tbody = $('#logs tbody');
  tbody.replaceChildren();
  for (const l of data.items ?? []) {
    const tr = document.createElement('tr');
    for (const v of [
      new Date(l.createdAt).toLocaleString(),
      l.eventType,
      l.status,
      l.durationMs ?? '',
      l.errorMessage ?? '',
    ]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    tr.className = l.status === 'error' ? 'error' : '';
    tbody.append(tr);
  }
}
$('#logs-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  logOffset = 0;
  guarded(loadLogs);
});
$('#logs-next').addEventListener('click', () => {
  logOffset += 20;
  guarded(loadLogs);
});
$('#logs-prev').addEventListener('click', () => {
  logOffset = Math.max(0, logOffset - 20);
  guarded(loadLogs);
});

for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => {
    for (const x of document.querySelectorAll('nav button')) x.classList.toggle('active', x === b);
    for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== b.dataset.tab;
    if (b.dataset.tab === 'logs') guarded(loadLogs);
  });
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  store.setItem('cb_enterprise', f.get('enterprise_number'));
  store.setItem('cb_token', f.get('token'));
  guarded(load);
});

guarded(load);
