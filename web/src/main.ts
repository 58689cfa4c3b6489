import './style.css';
import { api, session, setUnauthorizedHandler } from './api';
import { clear, h } from './dom';
import { lang, setLang, t } from './i18n';
import { adminPage } from './pages/admin';
import { authPage } from './pages/auth';
import { homePage } from './pages/home';
import { roomPage } from './pages/room';
import { studioPage } from './pages/studio';
import { Router } from './router';
import { emptyBlock } from './ui';

const root = document.getElementById('app')!;
const nav = h('nav', { class: 'nav' });
const links = h('div', { class: 'links' });
const actions = h('div', { class: 'actions' });
nav.append(links, actions);
const outlet = h('main', { class: 'outlet' });
root.replaceChildren(h('header', { class: 'top' }, h('div', { class: 'top-inner' },
  h('a', { class: 'logo', href: '/' }, h('span', { class: 'logo-mark' }, '●'), 'roomcast'), nav)), outlet);

const router = new Router(outlet);
const go = (href: string, replace = false) => router.go(href, replace);

function renderNav(): void {
  const u = session.user;
  const here = location.pathname;
  const link = (href: string, label: string) =>
    h('a', { href, class: here === href || (href !== '/' && here.startsWith(href)) ? 'active' : '' }, label);
  clear(links,
    link('/', t('nav.home')),
    u && link('/studio', t('nav.studio')),
    u?.role === 'admin' && link('/admin', t('nav.admin')));
  clear(actions,
    h('button', { class: 'lang', type: 'button', title: t('nav.lang_title'), onclick: () => {
      setLang(lang() === 'zh-CN' ? 'en' : 'zh-CN');
      router.render();
    } }, lang() === 'zh-CN' ? 'EN' : '中文'),
    u
      ? [h('span', { class: 'who', title: u.name }, u.name),
         h('button', { class: 'btn ghost', type: 'button', onclick: async () => {
           try {
             await api.logout();
           } catch {
             /* the session goes either way */
           }
           session.clear();
           renderNav();
           go('/');
         } }, t('nav.logout'))]
      : h('a', { class: 'btn primary', href: '/login?next=' + encodeURIComponent(location.pathname + location.search) }, t('nav.login')));
}

setUnauthorizedHandler(() => renderNav());
router.onChange = renderNav;
router
  .add('/', homePage)
  .add('/login', authPage(go, renderNav, 'login'))
  .add('/register', authPage(go, renderNav, 'register'))
  .add('/room/:id', roomPage)
  .add('/studio', studioPage(go))
  .add('/studio/:id', studioPage(go))
  .add('/admin', adminPage(go))
  .notFound((o) => {
    o.append(emptyBlock(t('state.not_found'), h('a', { class: 'btn', href: '/' }, t('nav.home'))));
  });
router.render();

// Refresh the user (role, ban) once per load; an invalid token logs out.
if (session.token) {
  api.me().then((u) => {
    session.setUser(u);
    renderNav();
  }).catch(() => {});
}

window.addEventListener('unhandledrejection', (e) => console.error('unhandled', e.reason));
