// History-API routing: each page is a function that fills the outlet and
// returns a cleanup called when the user leaves the page.

export type Cleanup = () => void;
export type Page = (outlet: HTMLElement, params: Record<string, string>, query: URLSearchParams) => Cleanup | void;

interface Route {
  re: RegExp;
  keys: string[];
  page: Page;
}

export class Router {
  private routes: Route[] = [];
  private cleanup: Cleanup | null = null;
  private fallback: Page | null = null;
  onChange: () => void = () => {};

  constructor(private outlet: HTMLElement) {
    window.addEventListener('popstate', () => this.render());
    document.addEventListener('click', (e) => {
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented) return;
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const href = a.getAttribute('href');
      if (!href || !href.startsWith('/') || href.startsWith('//') || /^\/(api|live|vod)\//.test(href)) return;
      e.preventDefault();
      this.go(href);
    });
  }

  add(pattern: string, page: Page): this {
    const keys: string[] = [];
    const re = new RegExp(
      '^' + pattern.replace(/:(\w+)/g, (_, k: string) => (keys.push(k), '([^/]+)')) + '/?$',
    );
    this.routes.push({ re, keys, page });
    return this;
  }

  notFound(page: Page): this {
    this.fallback = page;
    return this;
  }

  go(href: string, replace = false): void {
    if (replace) history.replaceState(null, '', href);
    else history.pushState(null, '', href);
    window.scrollTo(0, 0);
    this.render();
  }

  render(): void {
    this.cleanup?.();
    this.cleanup = null;
    this.outlet.replaceChildren();
    const path = location.pathname;
    const query = new URLSearchParams(location.search);
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      this.cleanup = r.page(this.outlet, params, query) || null;
      this.onChange();
      return;
    }
    this.cleanup = this.fallback?.(this.outlet, {}, query) || null;
    this.onChange();
  }
}
