/** HTML of the connect pages (no inline script: the server's CSP allows scripts from 'self' only). */

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function layout(title: string, body: string, script?: string): string {
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
${script ? `<script type="module" src="${script}"></script>` : ''}
</body>
</html>
`;
}

/** A page that only says something (errors, the end of the Avito flow). */
export function messagePage(title: string, text: string, code?: string): string {
  return layout(
    title,
    `<p id="message">${escapeHtml(text)}</p>${code ? `<p><code id="code">${escapeHtml(code)}</code></p>` : ''}`,
  );
}

/** `/connect/wa`: the tenant's WhatsApp session state and QR, refreshed by connect-wa.js from `/pub/wa/*`. */
export function whatsAppPage(tenant: number, k: string, cachedQrId: string | undefined): string {
  const q = `tenant=${tenant}&k=${encodeURIComponent(k)}`;
  const img = cachedQrId
    ? `<img id="qr" alt="QR-код WhatsApp" width="264" height="264" src="/pub/wa/qr.svg?${escapeHtml(q)}&amp;qr_id=${encodeURIComponent(cachedQrId)}">`
    : '<img id="qr" alt="QR-код WhatsApp" width="264" height="264" hidden>';
  return layout(
    'Подключение WhatsApp',
    `<section id="wa" data-tenant="${tenant}" data-k="${escapeHtml(k)}">
<p>Откройте WhatsApp на телефоне → «Связанные устройства» → «Привязка устройства» и отсканируйте код.</p>
<p>Состояние: <strong id="state">${cachedQrId ? 'ожидает сканирования' : 'загрузка…'}</strong></p>
${img}
<p id="error" role="alert" hidden></p>
</section>`,
    '/connect/assets/connect-wa.js',
  );
}

/** `/connect/avito`: what will happen, and the link that starts the authorization at Avito. */
export function avitoStartPage(authorizeUrl: string): string {
  return layout(
    'Подключение Avito',
    `<p>Вы перейдёте на Avito, чтобы разрешить доступ к сообщениям (messenger:read, messenger:write, user:read).
После подтверждения вы вернётесь сюда, и автоответ в Avito включится.</p>
<p><a id="authorize" class="button" href="${escapeHtml(authorizeUrl)}">Подключить Avito</a></p>`,
  );
}

export const CONNECT_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}#qr{display:block;margin:1rem auto;border:1px solid #ddd;background:#fff}
[hidden]{display:none!important}
#error{color:#b00020}.button{display:inline-block;padding:.6rem 1.2rem;border-radius:8px;background:#0a7cff;color:#fff;text-decoration:none}
`;

/** Polls `/pub/wa/status`, starts the session when there is no QR yet, swaps the QR image when it changes. */
export const CONNECT_WA_JS = `const root = document.getElementById('wa');
const q = 'tenant=' + encodeURIComponent(root.dataset.tenant) + '&k=' + encodeURIComponent(root.dataset.k);
const state = document.getElementById('state');
const qr = document.getElementById('qr');
const error = document.getElementById('error');
const LABELS = { ready: 'подключено', qr: 'ожидает сканирования', starting: 'запуск сессии…' };
let started = false;
let shownQr = new URL(qr.src || location.href, location.href).searchParams.get('qr_id');

function show(text, isError) {
  error.hidden = !isError;
  if (isError) error.textContent = text;
}

async function tick() {
  try {
    const res = await fetch('/pub/wa/status?' + q, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) {
      show('WhatsApp недоступен (' + (body.error || res.status) + '), повторяем…', true);
      return;
    }
    show('', false);
    if (body.ready) {
      state.textContent = LABELS.ready;
      state.dataset.state = 'ready';
      qr.hidden = true;
      return 'done';
    }
    if (body.qr) {
      state.textContent = LABELS.qr;
      state.dataset.state = 'qr';
      const id = body.qr_id || String(Date.now());
      if (id !== shownQr) {
        shownQr = id;
        qr.src = '/pub/wa/qr.svg?' + q + '&qr_id=' + encodeURIComponent(id);
      }
      qr.hidden = false;
    } else if (!started) {
      started = true;
      state.textContent = LABELS.starting;
      state.dataset.state = 'starting';
      await fetch('/pub/wa/start?' + q, { method: 'POST' });
    }
  } catch (e) {
    show('Нет связи с сервером, повторяем…', true);
  }
}

async function loop() {
  if ((await tick()) === 'done') return;
  setTimeout(loop, 1500);
}
loop();
`;
