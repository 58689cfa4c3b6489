import { api, session } from '../api';
import { h } from '../dom';
import { describe } from '../errors';
import { t } from '../i18n';
import type { Page } from '../router';

/** Login and register; ?next= is where to go afterwards. */
export function authPage(go: (href: string) => void, refresh: () => void, mode: 'login' | 'register'): Page {
  return (outlet, _p, query) => {
    const next = safeNext(query.get('next'));
    const msg = h('div', { class: 'form-error', role: 'alert' });
    const name = h('input', { name: 'name', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, placeholder: t('auth.name_hint') });
    const pass = h('input', { name: 'password', type: 'password', required: true, minlength: 8, maxlength: 72,
      autocomplete: mode === 'login' ? 'current-password' : 'new-password', placeholder: t('auth.password_hint') });
    const submit = h('button', { class: 'btn primary wide', type: 'submit' }, mode === 'login' ? t('auth.login') : t('auth.register'));
    const form = h('form', { class: 'card-form', novalidate: true },
      h('h1', null, mode === 'login' ? t('auth.login_title') : t('auth.register_title')),
      h('label', null, t('auth.name'), name),
      h('label', null, t('auth.password'), pass),
      msg, submit,
      h('p', { class: 'muted' },
        mode === 'login' ? t('auth.no_account') : t('auth.have_account'), ' ',
        h('a', { href: (mode === 'login' ? '/register' : '/login') + (next !== '/' ? '?next=' + encodeURIComponent(next) : '') },
          mode === 'login' ? t('auth.register') : t('auth.login'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.textContent = '';
      const n = name.value.trim();
      if (n.length < 3) return void (msg.textContent = t('auth.name_short'));
      if (mode === 'register' && !/^[a-zA-Z0-9_]{3,32}$/.test(n)) return void (msg.textContent = t('auth.name_rule'));
      if (pass.value.length < 8) return void (msg.textContent = t('auth.password_short'));
      submit.disabled = true;
      try {
        const l = mode === 'login' ? await api.login(n, pass.value) : await api.register(n, pass.value);
        session.save(l);
        refresh();
        go(next);
      } catch (err) {
        msg.textContent = describe(err);
      } finally {
        submit.disabled = false;
      }
    });
    outlet.append(h('div', { class: 'narrow' }, form));
    name.focus();
  };
}

function safeNext(v: string | null): string {
  return v && v.startsWith('/') && !v.startsWith('//') ? v : '/';
}
