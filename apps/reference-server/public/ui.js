// Toast and confirmation dialog; texts come from the catalogue.
import { setText } from './i18n.js';

const $ = (sel) => document.querySelector(sel);

export function toast(key, params, isError = false) {
  const el = $('#toast');
  setText(el, key, params);
  el.className = `show ${isError ? 'error' : ''}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    el.className = '';
  }, 5000);
}

export function toastError(err) {
  if (err?.code) toast('error.withCode', { code: err.code, message: err.message });
  else toast('error.generic', { message: err?.message ?? String(err) }, true);
  $('#toast').classList.add('error');
}

/** Modal yes/no question; resolves true on "Yes". */
export function ask(key, params) {
  const dialog = $('#confirm');
  setText($('#confirm-text'), key, params);
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener('close', onClose);
      resolve(answer);
    };
    const onClose = () => done(dialog.returnValue === 'yes');
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    dialog.showModal();
  });
}

/** Runs `fn`; shows `okKey` on success and the error otherwise. */
export async function guarded(fn, okKey, okParams) {
  try {
    const r = await fn();
    if (okKey) toast(okKey, okParams);
    return r;
  } catch (err) {
    toastError(err);
    return undefined;
  }
}
